"""The audit log: one JSON line per request on the "cds_service.audit" logger.

Fields: ts, request_id, method, path, status, latency_ms, and when known service, hookInstance, topics, cards,
dataSource, fhir (number of fallback requests, the slowest one's ms), feedback (entries stored/duplicate),
auth (ok / a failure code / absent when disabled), iss, jti, tenant.
Never the JWT, never the FHIR access token, never prefetch or feedback contents.
Handlers fill `flask.g.audit` (a dict) with the hook-level fields. The same line feeds the hook
latency histogram and call counter (cds_service/metrics.py).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request

from cds_service import metrics
from cds_service.warmup import is_warm_up

audit_log = logging.getLogger("cds_service.audit")

_HOOK_FIELDS = ("service", "hookInstance", "topics", "dataSource", "fhir", "feedback")
_AUTH_FIELDS = ("iss", "jti", "tenant")
MAX_PATH_CHARS = 200


def _line(response: Response) -> dict:
    started = g.get("audit_started")
    entry: dict = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": request.path[:MAX_PATH_CHARS],
        "status": response.status_code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }
    hook = g.get("audit") or {}
    for key in _HOOK_FIELDS:
        if hook.get(key) is not None:
            entry[key] = hook[key]
    if isinstance(hook.get("topics"), list):
        entry["cards"] = len(hook["topics"])
    auth = g.get("auth") or {}
    if auth:
        entry["auth"] = auth.get("result")
        entry.update({k: auth[k] for k in _AUTH_FIELDS if k in auth})
    return entry


def install_audit(app: Flask) -> None:
    """Time every request and log its line after the response is built (errors included)."""
    audit_log.setLevel(logging.INFO)

    @app.before_request
    def _start() -> None:
        g.audit_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if is_warm_up(request.environ):  # the worker's own warm-up is no one's request
            return response
        try:
            entry = _line(response)
            if request.endpoint == "hooks.call_service" and entry.get("service") and g.get("audit_started"):
                metrics.observe_hook(entry["service"], response.status_code, time.perf_counter() - g.audit_started)
            audit_log.info(json.dumps(entry, separators=(",", ":"), default=str))
        except Exception as exc:  # the audit line must never break the answer
            logging.getLogger(__name__).error("audit line not written: %s", type(exc).__name__)
        return response
