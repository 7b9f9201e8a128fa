"""The production topology on loopback: nginx (deploy/nginx config) in front of two gunicorn replicas,
with the jti cache and feedback in one PostgreSQL, all started by the tests from Debian's packages.

Skipped where nginx, PostgreSQL or psycopg are missing (`scripts/bootstrap --test` installs them as
root). Everything listens on 127.0.0.1 only, on free ports, and is stopped at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from cds_service.config import REPO_ROOT
from cds_service.security.client_keys import client_token, generate_client_key
from tests.postgres_cluster import PostgresCluster, _free_port, unavailable_reason

pytestmark = pytest.mark.fleet

ISS = "https://ehr.fleet.test"
KID = "fleet-ehr"
DEPLOY = REPO_ROOT / "deploy" / "nginx"
START_TIMEOUT_S = 90


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll until `url` answers 200; fail (with the log's tail) if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or accepted while still warming up
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready within {START_TIMEOUT_S} s: {log.read_text(errors='replace')[-3000:]}")


@dataclass
class Replica:
    """One service replica: `gunicorn cds_service.wsgi:app` with its own port, metrics folder and host cache."""

    name: str
    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> None:
        metrics = self.folder / f"{self.name}-metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env = {**os.environ, **self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics),
               "NET_CDS_JTI_HOST_DB": str(self.folder / f"{self.name}-jti.sqlite3")}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "30",
                 "cds_service.wsgi:app"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        _wait_ready(f"{self.url}/livez", self.process, self.log)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crashed host would go."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Nginx:
    """nginx with deploy/nginx/net-cds/{http,server}.conf and deploy/nginx/conf.d's upstream, on loopback."""

    folder: Path
    upstreams: list[str]
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        site = (DEPLOY / "conf.d" / "net-cds.conf").read_text()
        upstream = re.search(r"upstream net_cds \{.*?\n\}", site, re.S)
        assert upstream, "deploy/nginx/conf.d/net-cds.conf has no upstream net_cds block"
        block = upstream.group(0)
        for index, address in enumerate(self.upstreams, start=1):
            block = block.replace(f"replica{index}:8080", address)
        temp = {name: self.folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(path, "nobody")
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        return (f"{user}worker_processes 1;\ndaemon off;\npid {self.folder}/nginx.pid;\n"
                f"error_log {self.folder}/error.log warn;\nevents {{ worker_connections 512; }}\nhttp {{\n"
                f"  client_body_temp_path {temp['body']}; proxy_temp_path {temp['proxy']};\n"
                f"  fastcgi_temp_path {temp['fastcgi']}; uwsgi_temp_path {temp['uwsgi']}; "
                f"scgi_temp_path {temp['scgi']};\n"
                f"  include {DEPLOY}/net-cds/http.conf;\n  access_log {self.folder}/access.log net_cds;\n"
                f"  {block}\n  server {{\n    listen 127.0.0.1:{self.port};\n"
                f"    include {DEPLOY}/net-cds/server.conf;\n  }}\n}}\n")

    def start(self) -> None:
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        binary = nginx_binary() or "nginx"
        check = subprocess.run([binary, "-t", "-p", str(self.folder), "-c", str(conf)], capture_output=True,
                               text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        log = self.folder / "nginx.out"
        with open(log, "ab") as out:
            self.process = subprocess.Popen([binary, "-p", str(self.folder), "-c", str(conf)], stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        _wait_ready(f"{self.url}/livez", self.process, self.folder / "error.log")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


@dataclass
class Fleet:
    """What a test needs: the proxy, the replicas, the database and a way to sign calls as the EHR."""

    nginx: Nginx
    replicas: list[Replica]
    postgres: PostgresCluster
    private_pem: bytes
    public_base: str

    def token(self, path: str) -> str:
        """A fresh EHR JWT for one call to `path` (aud: the public URL, as behind the proxy)."""
        return client_token(self.private_pem, iss=ISS, aud=self.public_base + path, kid=KID)

    def headers(self, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(path)}"}

    def ensure_running(self) -> None:
        """Bring back whatever a test stopped (a killed replica, a stopped database)."""
        for replica in self.replicas:
            if replica.process is None or replica.process.poll() is not None:
                replica.start()


def _missing() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (scripts/bootstrap --test)"
    if not nginx_binary():
        return "nginx not installed (scripts/bootstrap --test installs it as root)"
    return unavailable_reason()


@pytest.fixture(scope="package")
def fleet() -> Iterator[Fleet]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="net-cds-fleet-"))
    os.chmod(folder, 0o755)  # nginx's workers (nobody) enter it for their temp files
    postgres = PostgresCluster().init()
    private_pem, jwks = generate_client_key(KID)
    (folder / "jwks.json").write_text(__import__("json").dumps(jwks))
    nginx = Nginx(folder, [])
    public_base = nginx.url  # the URL EHRs call: the JWT aud, on every replica
    env = {"NET_CDS_ENV": "production", "NET_CDS_AUTH": "required", "NET_CDS_TRUSTED_ISSUERS": ISS,
           "NET_CDS_JWKS_FILE": str(folder / "jwks.json"), "NET_CDS_PUBLIC_BASE_URL": public_base,
           "NET_CDS_JTI_DB": postgres.url, "NET_CDS_FEEDBACK_DB": postgres.url, "NET_CDS_TRUSTED_PROXY": "true",
           "NET_CDS_REQUIRE_HTTPS_FHIR": "false", "NET_CDS_LOG_LEVEL": "INFO"}
    replicas = [Replica(f"replica{i}", folder, env) for i in (1, 2)]
    nginx.upstreams = [f"127.0.0.1:{r.port}" for r in replicas]
    try:
        for replica in replicas:
            replica.start()
        nginx.start()
        yield Fleet(nginx, replicas, postgres, private_pem, public_base)
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()
        postgres.destroy()
        shutil.rmtree(folder, ignore_errors=True)
