"""The fleet's processes on loopback: gunicorn replicas and nginx with deploy/nginx's files.

Used by tests/fleet (which adds PostgreSQL and the checks) and bench/fleet.py (the proxy's cost).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cds_service.config import REPO_ROOT
from tests.postgres_cluster import free_port

DEPLOY = REPO_ROOT / "deploy" / "nginx"
START_TIMEOUT_S = 90


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll until `url` answers 200; fail (with the log's tail) if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or accepted while still warming up
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {START_TIMEOUT_S} s: {log.read_text(errors='replace')[-3000:]}")


@dataclass
class Replica:
    """One service replica, run as the Dockerfile runs it (`gunicorn -c python:cds_service.gunicorn_conf
    cds_service.wsgi:app`), with its own port, metrics folder and host cache."""

    name: str
    folder: Path
    env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
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
                [str(gunicorn), "-c", "python:cds_service.gunicorn_conf", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "cds_service.wsgi:app"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(f"{self.url}/livez", self.process, self.log)

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
    port: int = field(default_factory=free_port)
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
        wait_ready(f"{self.url}/livez", self.process, self.folder / "error.log")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
