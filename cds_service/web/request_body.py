"""The request body as bytes, read in one call where the WSGI server allows it.

gunicorn's `wsgi.input` (gunicorn.http.body.Body) copies a body 1 KiB at a time whatever size is asked
for: 0.5-0.6 ms of CPU for a 367 KiB prefetch, 8-10 % of a 500-resource patient-view request
(BENCHMARKS.md). Its length-delimited reader underneath returns the whole body in a few socket reads.
When the stream is exactly that (a Content-Length body nobody has started reading), the body is read
from the reader; in every other case (another server, chunked uploads, the test client) Werkzeug reads
it as usual. The size limit (413) is checked first either way.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge


def request_bytes(request: Request) -> bytes:
    """The whole body (b"" when there is none); RequestEntityTooLarge above the app's MAX_CONTENT_LENGTH."""
    length = request.content_length
    limit = request.max_content_length
    if length is not None and limit is not None and length > limit:
        raise RequestEntityTooLarge()
    reader = _gunicorn_length_reader(request.environ.get("wsgi.input"), length)
    if reader is None or length is None:
        return request.get_data(cache=False)
    chunks: list[bytes] = []
    received = 0
    while received < length:
        data = reader.read(length - received)
        if not data:  # the client went away: a short body, which the JSON parser then refuses (400)
            break
        chunks.append(data)
        received += len(data)
    return b"".join(chunks)


def _gunicorn_length_reader(stream: object, length: int | None) -> Any:
    """gunicorn's LengthReader behind `stream` when it still holds exactly the whole body, else None."""
    if length is None or length <= 0 or type(stream).__module__ != "gunicorn.http.body":
        return None
    reader = getattr(stream, "reader", None)
    buffered = getattr(stream, "buf", None)
    if type(reader).__name__ != "LengthReader" or getattr(reader, "length", None) != length:
        return None
    if buffered is None or buffered.tell() != 0:  # part of the body was read through the stream already
        return None
    return reader


def drain_unread_body(request: Request, limit: int) -> bool:
    """Read and discard what is left of a body the answer did not need (a 401 before the body, a 413 by
    Content-Length, a 404), at most `limit` bytes; True when nothing is left unread.

    A server that closes a connection with unread bytes in its receive buffer makes the kernel answer with a
    TCP reset, and the client sees the reset instead of the 401/413 (audit issue 13: bodies of 4 MB and more).
    """
    if not request.content_length:
        return True
    stream = request.environ.get("wsgi.input")
    if type(stream).__module__ != "gunicorn.http.body":  # other servers: their own rules (and test clients)
        return True
    left = limit
    try:
        while left > 0:
            chunk = stream.read(min(64 * 1024, left))
            if not chunk:
                return True
            left -= len(chunk)
    except Exception:  # the client went away meanwhile: nothing to answer
        return True
    return False
