"""The request body reader: gunicorn's own length reader when possible, Werkzeug otherwise; same bytes."""

from __future__ import annotations

import io
import socket
import threading

import pytest
from flask import Flask, request
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from cds_service.web import request_body
from cds_service.web.request_body import request_bytes

PAYLOAD = bytes(range(256)) * 1500  # 375 KiB, more than one socket read


def _gunicorn_stream(payload: bytes, *, head: bytes = b"") -> tuple[Body, socket.socket]:
    """A gunicorn Body over a real socket pair, fed by a thread (as a gunicorn sync worker has it)."""
    server, client = socket.socketpair()
    threading.Thread(target=lambda: (client.sendall(head + payload), client.close()), daemon=True).start()
    unreader = SocketUnreader(server)
    if head:  # consume what a request line would have been
        unreader.read()
    return Body(LengthReader(unreader, len(payload))), server


def _read(app: Flask, stream: object, length: int | None) -> bytes:
    environ = EnvironBuilder(method="POST", content_type="application/json").get_environ()
    environ["wsgi.input"] = stream
    environ.pop("CONTENT_LENGTH", None)
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    with app.request_context(environ):
        return request_bytes(request)


@pytest.fixture
def flask_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    return app


def test_gunicorn_body_is_read_whole_from_its_length_reader(flask_app, monkeypatch):
    stream, sock = _gunicorn_stream(PAYLOAD)
    used = []
    real = request_body._gunicorn_length_reader
    monkeypatch.setattr(request_body, "_gunicorn_length_reader", lambda *a: used.append(real(*a)) or used[-1])
    try:
        assert _read(flask_app, stream, len(PAYLOAD)) == PAYLOAD
    finally:
        sock.close()
    assert isinstance(used[0], LengthReader)


def test_a_partly_read_gunicorn_body_goes_the_usual_way(flask_app):
    stream, sock = _gunicorn_stream(PAYLOAD)
    try:
        first = stream.read(10)  # someone read the start through the stream: its buffer holds the rest
        assert request_body._gunicorn_length_reader(stream, len(PAYLOAD)) is None
        rest = stream.read()
    finally:
        sock.close()
    assert first + rest == PAYLOAD


def test_chunked_gunicorn_body_and_other_streams_use_werkzeug(flask_app):
    chunked = Body(ChunkedReader(None, SocketUnreader(socket.socketpair()[0])))
    assert request_body._gunicorn_length_reader(chunked, 10) is None
    assert _read(flask_app, io.BytesIO(b'{"a": 1}'), 8) == b'{"a": 1}'


def test_size_limit_is_checked_before_reading(flask_app):
    stream = io.BytesIO(b"x")  # would be far too short: the declared length alone must trigger 413
    with pytest.raises(RequestEntityTooLarge):
        _read(flask_app, stream, 2 * 1024 * 1024)
    assert stream.tell() == 0


def test_client_that_goes_away_gives_a_short_body_not_a_hang(flask_app):
    server, client = socket.socketpair()
    client.sendall(PAYLOAD[:1000])
    client.close()
    stream = Body(LengthReader(SocketUnreader(server), len(PAYLOAD)))
    try:
        assert _read(flask_app, stream, len(PAYLOAD)) == PAYLOAD[:1000]
    finally:
        server.close()
