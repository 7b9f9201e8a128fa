"""Logging for every way the service starts (wsgi.py for gunicorn, `net-cds serve`): JSON lines on stderr.

One module owns the configuration so that later fields (a request id, say) are added in one place.
Each record is one JSON object: ts, level, logger, message, and request_id while a request is being
handled (cds_service/request_id.py). An audit line (logger cds_service.audit)
is already a JSON object: it is written as it is, so each request is exactly one parseable line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

AUDIT_LOGGER = "cds_service.audit"
_HANDLER_NAME = "net-cds-json-stderr"


class JsonLineFormatter(logging.Formatter):
    """A record as one JSON line (exception text included, newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == AUDIT_LOGGER and message.startswith("{"):
            return message
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
                 .replace("+00:00", "Z"), "level": record.levelname, "logger": record.name, "message": message}
        if getattr(record, "request_id", None):  # set by cds_service/request_id.py's record factory
            entry["request_id"] = record.request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"), default=str)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines to stderr on the root logger, once per process (calling again only sets the level)."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(getattr(handler, "name", None) == _HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.name = _HANDLER_NAME
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
