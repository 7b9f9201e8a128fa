"""Server processes the tests start on loopback (the FHIR servers, gunicorn), started patiently.

On a busy machine a server is slow, not broken: while waiting for it, every transient failure
(connection refused or reset, a read timeout, a 5xx while it starts) is retried until a deadline of
tens of seconds. Only the process exiting, or the deadline, fails the test, with the end of its log.
A port picked free can be taken by another process before the server binds it; then the server is
started again on another port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

READY_TIMEOUT = 90.0  # seconds a server may take to answer its first 200 on a loaded machine
ATTEMPT_TIMEOUT = 5.0  # seconds per probe; a slower probe is simply retried
STOP_TIMEOUT = 20.0  # seconds for a server to exit after SIGTERM before it is killed
PORT_TRIES = 3
_PORT_TAKEN = ("EADDRINUSE", "already in use", "Connection in use")


def free_port() -> int:
    """A loopback port nothing listens on right now (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Started:
    """A server process that answered its readiness URL: the process, its port and its log."""

    process: subprocess.Popen
    port: int
    log: Path


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = READY_TIMEOUT) -> str | None:
    """Poll GET `url` until it answers 200: None when it did, else why not (the process exited, or the
    deadline passed, with the last failure seen)."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        try:
            status = requests.get(url, timeout=ATTEMPT_TIMEOUT).status_code
            if status == 200:
                return None
            last = f"HTTP {status}"
        except requests.RequestException as exc:  # refused, reset, timed out: all transient here
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            return f"did not answer {url} with 200 within {timeout:g} s (last: {last})"
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def start(name: str, command: list[str], *, cwd: Path, env: dict[str, str], ready_url: Callable[[int], str],
          log: Path, port_env: str | None = "PORT", port_arg: Callable[[int], list[str]] | None = None) -> Started:
    """Start `command` on a free port (given as env `port_env` and/or the extra arguments `port_arg(port)`),
    wait until `ready_url(port)` answers 200, and return it; fail the test with the log otherwise."""
    reason = "not started"
    for _ in range(PORT_TRIES):
        port = free_port()
        port_env_vars = {port_env: str(port)} if port_env else {}
        with log.open("wb") as handle:
            process = subprocess.Popen([*command, *(port_arg(port) if port_arg else [])], cwd=cwd,
                                       env={**os.environ, **env, **port_env_vars}, stdout=handle,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        reason = wait_until_ready(ready_url(port), process)
        if reason is None:
            return Started(process, port, log)
        stop(process)
        if not any(marker in log_tail(log) for marker in _PORT_TAKEN):
            break
    pytest.fail(f"{name} did not start: {reason}\n{log_tail(log)}", pytrace=False)
