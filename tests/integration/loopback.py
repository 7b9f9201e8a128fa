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
# ("status", code) = answer that status; ("dribble", s) = send headers, then one body byte every s seconds.
Rule = Callable[[str], tuple[str, float] | None]


@dataclass
class Loopback:
    """A running loopback server: its base URL and the paths it was asked for."""

    base_url: str
    paths: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


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
                self._send(int(action[1]), b'{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
                                           b'"code":"exception","diagnostics":"injected failure"}]}')
                return
            if action and action[0] == "sleep" and stop.wait(action[1]):
                return
            if action and action[0] == "dribble":
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    if stop.wait(action[1]):
                        return
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                return
            if upstream is None:
                self._send(404, b'{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
                                b'"code":"not-found"}]}')
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
            answer = requests.get(upstream + path, headers=headers, timeout=30)
            body = answer.content.replace(upstream.encode(), info.base_url.encode())
            self._send(answer.status_code, body)

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

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
