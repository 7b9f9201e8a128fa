"""Starting and stopping one test FHIR server process (`servers/serve NAME`), apart from pytest's fixtures.

A launch returns at once, so a slow starter (HAPI: 20-90 s of JVM and Spring start on this 2-core
machine) can boot while other tests run; `wait_ready` then waits for its /metadata.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.integration.processes import free_port, log_tail, stop, wait_until_ready

SERVE = Path(__file__).parent / "servers" / "serve"


@dataclass
class Launch:
    """A server process started on a free 127.0.0.1 port, with the random bearer token it demands."""

    name: str
    base_url: str
    token: str
    process: subprocess.Popen
    log: Path


class StartFailed(Exception):
    """The server exited or did not answer /metadata in time; the message carries its log's tail."""


def launch(name: str, base_path: str, workdir: Path, env: dict[str, str]) -> Launch:
    """Start `servers/serve NAME` (it execs the server, so the process is the server) without waiting."""
    port = free_port()
    token = f"itest-{secrets.token_hex(12)}"
    log = workdir / "server.log"
    with log.open("wb") as handle:
        process = subprocess.Popen([str(SERVE), name], cwd=workdir,
                                   env={**os.environ, "PORT": str(port), "TOKEN": token, **env},
                                   stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Launch(name, f"http://127.0.0.1:{port}{base_path}", token, process, log)


def wait_ready(started: Launch, timeout: float) -> None:
    """Wait until GET /metadata answers 200; stop the process and raise StartFailed if it never does."""
    reason = wait_until_ready(f"{started.base_url}/metadata", started.process, timeout)
    if reason is not None:
        stop(started.process)
        raise StartFailed(f"{started.name} FHIR server {reason}:\n{log_tail(started.log)}")
