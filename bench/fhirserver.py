"""A real local FHIR server for the fallback scenario, and direct timing of the service's queries.

sekmet-fhir (FastAPI + SQLite, HAPI-like paging) or, with `bench/run.py --fhir-server hapi`, HAPI FHIR's
JPA server (both installed into .fhir-servers/ by tests/integration/servers/install) runs on a free
127.0.0.1 port with a static bearer token, started as the integration suite starts it. Each of the
service's fallback queries is then timed directly (same URL, same token header, same `_count`, following
`next` pages like the service does), so the hook latency can be compared with the slowest single query.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from bench.server import REPO, free_port, wait_ready
from bench.stats import percentile
from cds_service.fhir.fallback import SEARCH_HEADERS
from cds_service.fhir.upload import upload_bundle
from cds_service.services.registry import PATIENT_TOKEN, CdsService, fallback_queries

SERVERS_DIR = Path(os.environ.get("NET_CDS_FHIR_SERVERS_DIR", REPO / ".fhir-servers"))
SERVE = REPO / "tests" / "integration" / "servers" / "serve"  # the integration suite's start script


@dataclass(frozen=True)
class LocalServer:
    """How to start one of the integration suite's servers for the bench: what must exist, where it answers."""

    label: str
    installed: Path
    base_path: str
    start_timeout_s: float


LOCAL_SERVERS = {
    "sekmet": LocalServer("sekmet-fhir 0.1.1", SERVERS_DIR / "sekmet" / "venv" / "bin" / "sekmet", "/fhir", 60.0),
    "hapi": LocalServer("HAPI FHIR 8.8.0 (JPA, H2 in memory)", SERVERS_DIR / "hapi" / "lib" / "hapi-test-server-1.jar",
                        "/fhir", 300.0),
}


@dataclass(frozen=True)
class FhirServer:
    name: str
    base_url: str
    token: str
    pid: int = 0            # the server's own process (serve execs it), for its memory
    start_s: float = 0.0    # from launch until GET /metadata answered 200


def available(name: str = "sekmet") -> str | None:
    """None when the server is installed; otherwise why the fallback scenario cannot run."""
    installed = LOCAL_SERVERS[name].installed
    if not installed.exists():
        return f"{name} is not installed ({installed}); run tests/integration/servers/install"
    if not SERVE.exists():
        return f"{SERVE} is missing"
    return None


@contextmanager
def local_server(name: str = "sekmet", log_file: Path | None = None) -> Iterator[FhirServer]:
    """One of the integration suite's servers (sekmet: a fresh SQLite database; hapi: H2 in memory) on a free
    loopback port with a bearer token, for the `with` block (started by tests/integration/servers/serve)."""
    reason = available(name)
    if reason:
        raise RuntimeError(reason)
    spec = LOCAL_SERVERS[name]
    with tempfile.TemporaryDirectory(prefix=f"net-cds-bench-{name}-") as workdir:
        port = free_port()
        token = f"bench-{secrets.token_hex(12)}"
        env = {**os.environ, "PORT": str(port), "TOKEN": token, "DATA_DIR": workdir}
        log = open(log_file or os.devnull, "ab")  # noqa: SIM115
        process = subprocess.Popen(["bash", str(SERVE), name], cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{port}{spec.base_path}"
        launched = time.perf_counter()
        try:
            wait_ready(f"{base}/metadata", timeout=spec.start_timeout_s, process=process)
            yield FhirServer(spec.label, base, token, process.pid, time.perf_counter() - launched)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)
            log.close()


def load(server: FhirServer, bundle: dict, label: str) -> int:
    """Upload a patient bundle (one transaction of PUTs); returns how many resources it holds."""
    result = upload_bundle(server.base_url, bundle, label, token=server.token, timeout=300)
    return len(result.references)


def query_paths(service: CdsService, patient_id: str, page_size: int) -> dict[str, str]:
    """Each fallback request's path (label: its prefetch keys), exactly as cds_service.fhir.gather sends them
    when no key is prefetched (code searches merged by registry.fallback_queries, `_include` where declared)."""
    paths = {}
    for query in fallback_queries(service.queries):
        path = query.request_template.replace(PATIENT_TOKEN, patient_id)
        if not query.is_read and page_size > 0 and "_count=" not in path:
            path += ("&" if "?" in path else "?") + f"_count={page_size}"
        paths[query.label] = path
    return paths


def _get_all(session: requests.Session, server: FhirServer, path: str) -> tuple[int, int, int]:
    """GET a read or a search with all its `next` pages; returns (HTTP requests, resources, last status).

    An error answer ends the query (as in the service, which then notes the query as failed).
    Headers as the service's fallback sends them (fhirclient's Accept, the bearer token, SEARCH_HEADERS).
    """
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/fhir+json",
               "Accept-Charset": "UTF-8"}
    if "?" in path:
        headers.update(SEARCH_HEADERS)
    url = f"{server.base_url}/{path}"
    pages = resources = 0
    while url:
        response = session.get(url, headers=headers, timeout=30)
        pages += 1
        if response.status_code != 200:
            return pages, resources, response.status_code
        data = response.json()
        if data.get("resourceType") != "Bundle":
            return pages, 1, 200
        resources += len(data.get("entry") or ())
        url = next((urljoin(server.base_url + "/", link["url"]) for link in data.get("link") or ()
                    if link.get("relation") == "next"), None)
    return pages, resources, 200


def time_queries(server: FhirServer, paths: dict[str, str], rounds: int = 30) -> dict[str, dict]:
    """Each query timed alone (sequentially, keep-alive session, `rounds` times after 3 warm-ups)."""
    out: dict[str, dict] = {}
    with requests.Session() as session:
        for key, path in paths.items():
            times: list[float] = []
            pages = resources = status = 0
            for i in range(rounds + 3):
                t = time.perf_counter()
                pages, resources, status = _get_all(session, server, path)
                if i >= 3:
                    times.append((time.perf_counter() - t) * 1000)
            out[key] = {"pages": pages, "resources": resources, "status": status, "p50_ms": percentile(times, 50),
                        "p95_ms": percentile(times, 95), "p99_ms": percentile(times, 99)}
    return out


def time_parallel_burst(server: FhirServer, paths: dict[str, str], workers: int, rounds: int = 30) -> dict:
    """All queries at once from `workers` threads (what the service's fallback does), timed per burst."""
    times: list[float] = []
    with requests.Session() as session, ThreadPoolExecutor(max_workers=workers) as pool:
        session.mount("http://", HTTPAdapter(pool_maxsize=workers))
        for i in range(rounds + 3):
            t = time.perf_counter()
            list(pool.map(lambda path: _get_all(session, server, path), paths.values()))
            if i >= 3:
                times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "p99_ms": percentile(times, 99)}
