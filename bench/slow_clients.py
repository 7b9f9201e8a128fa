"""Slow clients (slowloris) against the shipped deployment: does a normal call still get through in time?

    .venv/bin/python bench/slow_clients.py                       # shipped config, 50 slow clients
    .venv/bin/python bench/slow_clients.py --worker-class sync   # the old deployment, for comparison

gunicorn runs on a free 127.0.0.1 port with cds_service/gunicorn_conf.py (or plain sync workers). Each
slow client opens a connection, sends the start of a request and then one header byte every
`--interval` seconds, reconnecting when the server closes it, for the whole run. Meanwhile normal
patient-view calls (500-resource prefetch) are made one after the other, and their latencies compared with
the same calls before the attack. Bounded: `--calls` calls, each with a `--call-timeout` client timeout.
Loopback only. Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench.records import request_body  # noqa: E402
from bench.server import VENV_BIN, Gunicorn, running  # noqa: E402


@dataclass
class Shipped(Gunicorn):
    """The deployment as shipped: gunicorn with cds_service/gunicorn_conf.py (the Dockerfile's command)."""

    def command(self, port: int) -> list[str]:
        return [str(VENV_BIN / "gunicorn"), "-c", "python:cds_service.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                "--workers", str(self.workers), "cds_service.wsgi:app"]

    def describe(self) -> str:
        return f"shipped gunicorn_conf.py ({self.workers} gevent workers)"


class SlowClients:
    """`count` connections that each send a header byte every `interval` s until stopped."""

    def __init__(self, port: int, count: int, interval: float) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.stop = threading.Event()
        self.connections = 0
        self.closed_by_server = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    with self._lock:
                        self.connections += 1
                    sock.sendall(b"POST /cds-services/net-patient-view HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    while not self.stop.wait(self.interval):
                        sock.sendall(b"X")
            except OSError:
                with self._lock:
                    self.closed_by_server += 1
                self.stop.wait(0.2)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def timed_calls(base: str, body: bytes, calls: int, timeout: float) -> list[float | None]:
    """Latency in ms of each call (None: no answer within `timeout`)."""
    out: list[float | None] = []
    with httpx.Client(timeout=timeout) as client:
        for _ in range(calls):
            started = time.perf_counter()
            try:
                response = client.post(f"{base}/cds-services/net-patient-view", content=body,
                                        headers={"Content-Type": "application/json"})
                out.append((time.perf_counter() - started) * 1000 if response.status_code == 200 else None)
            except httpx.HTTPError:
                out.append(None)
    return out


def summary(latencies: list[float | None]) -> dict:
    done = [x for x in latencies if x is not None]
    return {"calls": len(latencies), "answered": len(done),
            "p50_ms": round(statistics.median(done), 1) if done else None,
            "max_ms": round(max(done), 1) if done else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=50, help="slow clients")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between header bytes")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--call-timeout", type=float, default=15.0)
    parser.add_argument("--worker-class", choices=["shipped", "sync"], default="shipped")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = (Shipped(workers=args.workers) if args.worker_class == "shipped"
              else Gunicorn(workers=args.workers, worker_class="sync"))
    folder = Path(tempfile.mkdtemp(prefix="net-cds-slow-"))
    config.env = {"NET_CDS_ENV": "development", "NET_CDS_JTI_DB": "memory",
                  "NET_CDS_FEEDBACK_DB": str(folder / "feedback.sqlite3")}
    body = json.dumps(request_body("net-patient-view", "net-si-progressing-on-ssa", total=500)).encode()
    with running(config) as base:
        port = int(base.rsplit(":", 1)[1])
        timed_calls(base, body, 5, args.call_timeout)  # warm the connection path
        before = timed_calls(base, body, args.calls, args.call_timeout)
        slow = SlowClients(port, args.slow, args.interval)
        slow.start()
        time.sleep(max(3.0, args.interval * 1.5))  # every slow client connected and trickling
        during = timed_calls(base, body, args.calls, args.call_timeout)
        slow.close()
    b, d = summary(before), summary(during)
    delay = (round(d["max_ms"] - b["p50_ms"], 1) if d["max_ms"] is not None and b["p50_ms"] is not None else None)
    print(json.dumps({"deployment": config.describe(), "slow_clients": args.slow, "interval_s": args.interval,
                      "slow_connections_opened": slow.connections, "closed_by_server": slow.closed_by_server,
                      "before": b, "during": d, "worst_delay_ms": delay}, indent=2))
    return 0 if d["answered"] == d["calls"] else 1


if __name__ == "__main__":
    sys.exit(main())
