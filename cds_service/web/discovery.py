"""GET /cds-services: the discovery document, built once from the service definitions; and the
decision-support source attributes (GET /cds-services/source-attributes, docs/source-attributes.md)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cds_service.services.registry import load_services
from cds_service.services.source_attributes import PATH, discovery_extension, source_attributes

bp = Blueprint("discovery", __name__)


@bp.get("/cds-services")
def discovery() -> Response:
    extension = discovery_extension()
    response = jsonify({"services": [s.discovery(extension) for s in load_services().values()]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get(PATH)
def attributes() -> Response:
    response = jsonify(source_attributes())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
