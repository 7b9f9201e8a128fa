"""GET /cds-services: the discovery document, built once from the service definitions."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cds_service.services.registry import load_services

bp = Blueprint("discovery", __name__)


@bp.get("/cds-services")
def discovery() -> Response:
    response = jsonify({"services": [s.discovery() for s in load_services().values()]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
