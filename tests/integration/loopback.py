"""Tiny HTTP servers on 127.0.0.1 for the failure tests: a slow server, and a proxy in front of a real
FHIR server that can slow down or break chosen requests while the rest reach the real server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# What to do with a request path: None = forward it; ("sleep", s) = wait s seconds, then forward;
# ("status", code) = answer that status; ("dribble", s) = send headers, then one body byte every s seconds
# for HOLD seconds. Leaving the `with` block wakes every sleeper and stops every dribble unanswered.
Rule = Callable[[str], tuple[str, float] | None]

# The request headers the proxy passes on: the token, and those that change what a server answers (the
# service's Accept, Prefer: handling=strict and Cache-Control: no-cache), so the server behind it answers as
# it answers the service directly.
FORWARDED = ("authorization", "accept", "prefer", "cache-control")

HOLD = 120.0  # seconds a slow or trickling answer lasts at most: far past any timeout a test configures


@dataclass
class Loopback:
    """A running loopback server: its base URL, the paths it was asked for, and those it answered in full
    (a request still held or trickling when the caller gave up is in `paths` only)."""

    base_url: str
    paths: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The service sends a call's dozen requests at once; with the default backlog of 5 some connections
    # are dropped and retried by the kernel a second later (then 3 s, 7 s on a loaded machine).
    request_queue_size = 128


@contextmanager
def serve(rule: Rule, upstream: str | None = None, fhir_path: str = "/fhir") -> Iterator[Loopback]:
    """A loopback FHIR endpoint at http://127.0.0.1:<port><fhir_path>, stopped (sleepers woken) on exit.

    With `upstream`, requests are forwarded there (Authorization included) and upstream URLs in the
    answer are rewritten to this server's base, so paging links stay on it.
    """
    stop = threading.Event()
    info = Loopback(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = self.path[len(fhir_path):] if self.path.startswith(fhir_path) else self.path
            info.paths.append(path)
            action = rule(path)
            if action and action[0] == "status":
                self._send(path, int(action[1]), b'{"resourceType":"OperationOutcome","issue":[{"severity":'
                                                 b'"error","code":"exception","diagnostics":"injected failure"}]}')
                return
            if action and action[0] == "sleep" and stop.wait(action[1]):
                return
            if action and action[0] == "dribble":
                self._dribble(path, action[1])
                return
            if upstream is None:
                self._send(path, 404, b'{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
                                      b'"code":"not-found"}]}')
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED}
            answer = requests.get(upstream + path, headers=headers, timeout=HOLD)
            body = answer.content.replace(upstream.encode(), info.base_url.encode())
            self._send(path, answer.status_code, body)

        def _dribble(self, path: str, interval: float) -> None:
            size = max(1, int(HOLD / interval))
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            for _ in range(size):
                if stop.wait(interval):
                    return
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
            info.answered.append(path)

        def _send(self, path: str, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                return
            info.answered.append(path)

    server = _Server(("127.0.0.1", 0), Handler)
    info.base_url = f"http://127.0.0.1:{server.server_address[1]}{fhir_path}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
