"""Start and stop the service under gunicorn on a free loopback port, as production runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 200; raise when `timeout` passes or `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} was not ready within {timeout} s")


@dataclass
class Gunicorn:
    """How the service is run for a benchmark: gunicorn, N workers, one worker class."""

    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1
    keepalive: int = 5
    env: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None

    def command(self, port: int) -> list[str]:
        cmd = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(self.workers),
               "--worker-class", self.worker_class, "--keep-alive", str(self.keepalive),
               "--timeout", "60", "--log-level", "warning", "--access-logfile", "-"]  # as the Dockerfile
        if self.worker_class == "gthread":
            cmd += ["--threads", str(self.threads)]
        return [*cmd, "cds_service.wsgi:app"]

    def describe(self) -> str:
        threads = f", {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.workers} workers ({self.worker_class}{threads}), keep-alive {self.keepalive} s"


@contextmanager
def running(config: Gunicorn) -> Iterator[str]:
    """Run gunicorn on a free 127.0.0.1 port for the `with` block; yields the base URL."""
    port = free_port()
    env = {**os.environ, "NET_CDS_LOG_LEVEL": "WARNING", **config.env}
    log = open(config.log_file, "ab") if config.log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(config.command(port), cwd=REPO, env=env, stdout=log, stderr=log,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/healthz", process=process)
        yield base
    finally:
        stop(process)
        if log is not subprocess.DEVNULL:
            log.close()


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the gunicorn master (it stops its workers), SIGKILL its group if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
