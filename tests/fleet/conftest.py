"""The production topology on loopback: nginx (deploy/nginx config) in front of two gunicorn replicas,
with the jti cache and feedback in one PostgreSQL, all started by the tests from Debian's packages.

Skipped where nginx, PostgreSQL or psycopg are missing (`scripts/bootstrap --test` installs them as
root). Everything listens on 127.0.0.1 only, on free ports, and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cds_service.security.client_keys import client_token, generate_client_key
from tests.fleet.topology import Nginx, Replica, nginx_binary
from tests.postgres_cluster import PostgresCluster, unavailable_reason

ISS = "https://ehr.fleet.test"
KID = "fleet-ehr"


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
    (folder / "jwks.json").write_text(json.dumps(jwks))
    nginx = Nginx(folder, [])
    public_base = nginx.url  # the URL EHRs call: the JWT aud, on every replica
    env = {"NET_CDS_ENV": "production", "NET_CDS_AUTH": "required", "NET_CDS_TRUSTED_ISSUERS": ISS,
           "NET_CDS_JWKS_FILE": str(folder / "jwks.json"), "NET_CDS_PUBLIC_BASE_URL": public_base,
           "NET_CDS_JTI_DB": postgres.url, "NET_CDS_FEEDBACK_DB": postgres.url, "NET_CDS_TRUSTED_PROXY": "true",
           "NET_CDS_REQUIRE_HTTPS_FHIR": "false", "NET_CDS_LOG_LEVEL": "INFO",
           "NET_CDS_ALLOWED_FHIR_SERVERS": "https://ehr.example.org/fhir"}  # production refuses to start without
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
