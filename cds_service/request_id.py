"""The request id: one per request, on every log line of it and on the answer (X-Request-Id).

Behind the deploy/ nginx, the proxy sets X-Request-Id (its `$request_id`), so its access log, the
replica's log lines and the EHR's answer carry the same id. A well-formed incoming id is kept;
anything else (missing, too long, odd characters) is replaced by a fresh one, so a log line never
carries caller-chosen text beyond 128 safe characters.

Every LogRecord gets a `request_id` attribute (None outside a request) through the log record
factory, whatever handler or formatter the process uses; the JSON formatter writes it.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-Id"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return None


def install_request_id(app: Flask) -> None:
    @app.before_request
    def _assign() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _VALID.fullmatch(incoming) else uuid.uuid4().hex

    @app.after_request
    def _answer(response: Response) -> Response:
        if g.get("request_id"):
            response.headers[HEADER] = g.request_id
        return response

    _install_record_factory()


def _install_record_factory() -> None:
    """Wrap the record factory once per process, so each record carries the current request id."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "net_cds_request_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    factory.net_cds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
