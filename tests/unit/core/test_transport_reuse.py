"""FhirSession resends a GET once when the server dropped the kept-alive connection it reused.

The server is a real loopback socket: it answers the first request with keep-alive, then closes that
connection as the second request arrives on it (what a server's idle timeout racing the client's reuse
does), and answers normally on a new connection.
"""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from cds_service.fhir.transport import FhirSession

ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 27\r\n"
          b"Connection: keep-alive\r\n\r\n" + b'{"resourceType":"Bundle"}\r\n')


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class DroppingServer:
    """Connection 1: answers one request, then closes on the next. Later connections: always answer."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        with conn:
            answered = 0
            while request := _read_request(conn):
                self.requests.append(request.split(b"\r\n", 1)[0])
                if number == 1 and answered == 1:
                    return  # close without answering: the client's reuse raced our idle close
                conn.sendall(ANSWER)
                answered += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server():
    s = DroppingServer()
    yield s
    s.close()


def test_a_get_on_a_dropped_kept_alive_connection_is_sent_again_once(server):
    session = FhirSession(f"http://127.0.0.1:{server.port}/fhir", timeout=10, pool_size=1, allow_loopback=True)
    first = session.get(f"http://127.0.0.1:{server.port}/fhir/Condition?patient=p1")
    second = session.get(f"http://127.0.0.1:{server.port}/fhir/Observation?patient=p1")
    assert first.status_code == 200 and second.status_code == 200
    assert second.json() == {"resourceType": "Bundle"}
    assert server.connections == 2  # the dropped one and a new one
    assert server.requests.count(b"GET /fhir/Observation?patient=p1 HTTP/1.1") == 2


def test_a_post_on_a_dropped_connection_is_not_sent_again(server):
    session = FhirSession(f"http://127.0.0.1:{server.port}/fhir", timeout=10, pool_size=1, allow_loopback=True)
    assert session.get(f"http://127.0.0.1:{server.port}/fhir/metadata").status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.post(f"http://127.0.0.1:{server.port}/fhir", json={"resourceType": "Bundle"})
    assert server.connections == 1
