"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, started with pg_ctl.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (created by
Debian's package) and runs through `runuser`. It listens on loopback TCP (a free port) and on a Unix
socket in its folder; `stop()`/`start()` let a test take it away and bring it back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable_reason() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if not (_binary("initdb") and _binary("pg_ctl")):
        return "PostgreSQL binaries not installed (scripts/bootstrap --test installs them as root)"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root without runuser"
    return None


class PostgresCluster:
    """initdb + pg_ctl in a temporary folder; `url` connects as the `postgres` superuser over TCP."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="net-cds-pg-"))  # not pytest's 0700 tmp: postgres enters it
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")

    def _run(self, args: list[str], timeout: float = 120) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def init(self) -> PostgresCluster:
        self._run([_binary("initdb") or "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                   "--no-sync"])
        return self.start()

    def start(self) -> PostgresCluster:
        self._run([_binary("pg_ctl") or "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                   "-o", f"-k {self.folder} -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off",
                   "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run([_binary("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"], timeout=60)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
