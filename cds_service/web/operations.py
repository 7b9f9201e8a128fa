"""Endpoints for the platform, not for EHRs: liveness, readiness, Prometheus metrics.

- `/healthz` and `/livez`: the process answers (a load balancer's or orchestrator's liveness probe).
- `/readyz`: it can do its work: keys loaded when authentication is on, and each PostgreSQL database
  it is configured with reachable (503 naming what is not; no detail beyond "ok"/"unreachable").
- `/metrics`: never public. With NET_CDS_METRICS_TOKEN set, the scraper sends it as a bearer token;
  without it, only a direct loopback caller is answered (a request relayed by a proxy carries
  X-Forwarded-For and gets 404, like any other caller). The deploy/ nginx config also refuses it.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, jsonify, request

from cds_service import metrics
from cds_service.config import Settings

bp = Blueprint("operations", __name__)

READINESS_CHECKS = "net_cds_readiness"  # app.extensions key: name -> callable returning True when ready


@bp.get("/healthz")
@bp.get("/livez")
def live() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def ready() -> Response:
    checks = current_app.extensions.get(READINESS_CHECKS, {})
    results = {name: "ok" if check() else "unavailable" for name, check in checks.items()}
    ok = all(result == "ok" for result in results.values())
    response = jsonify({"status": "ok" if ok else "unavailable", "checks": results})
    response.status_code = 200 if ok else 503
    return response


def _metrics_allowed(settings: Settings) -> bool:
    if settings.metrics_token:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                  settings.metrics_token.encode())
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    settings: Settings = current_app.config["NET_CDS"]
    if not _metrics_allowed(settings):
        return Response(status=404)
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
