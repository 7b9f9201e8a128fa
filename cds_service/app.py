"""The Flask application factory: configuration, blueprints, CORS, error handling."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask_cors import CORS

from cds_service.audit import install_audit
from cds_service.config import Settings, StartupError, check_production
from cds_service.demo import ENVIRONMENTS as DEMO_ENVIRONMENTS
from cds_service.demo import blueprint as demo
from cds_service.feedback import blueprint as feedback
from cds_service.feedback.recording import EXTENSION_KEY as FEEDBACK_STORE
from cds_service.feedback.store import open_feedback_store
from cds_service.json_codec import FastJSONProvider
from cds_service.request_id import install_request_id
from cds_service.security import install_auth
from cds_service.web import discovery, hooks, operations
from cds_service.web.errors import register_error_handlers
from cds_service.web.headers import install_response_headers
from cds_service.web.operations import READINESS_CHECKS
from cds_service.web.smart_app import install_smart_app


def allow_timing(app: Flask, origins: tuple[str, ...]) -> None:
    """A browser EHR (the CDS Hooks sandbox) may read Server-Timing: `Timing-Allow-Origin` names the calling
    origin when it is one of the CORS origins (the header CORS exposes is read by scripts; this one by
    the Resource Timing API)."""
    allowed = set(origins)

    @app.after_request
    def _timing_allow_origin(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin and ("*" in allowed or origin in allowed) and request.path.startswith("/cds-services"):
            response.headers["Timing-Allow-Origin"] = origin
            response.vary.add("Origin")
        return response


def create_app(config: Settings | dict | None = None) -> Flask:
    """Build the app. `config` is a Settings, a dict of Settings overrides, or None (environment)."""
    settings = config if isinstance(config, Settings) else Settings.from_env().with_overrides(**(config or {}))
    if settings.environment == "production" and settings.as_of is not None:
        raise StartupError("NET_CDS_AS_OF is for demos and tests: a production service evaluates every call "
                           "as of the current date. Unset it.")
    app = Flask(__name__)
    app.json = FastJSONProvider(app)  # orjson; same output rules as Flask's (cds_service/json_codec.py)
    app.config["NET_CDS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("cds_service").setLevel(settings.log_level)
    if settings.cors_origins:
        CORS(app, resources={r"/cds-services*": {"origins": list(settings.cors_origins)}},
             methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type", "Authorization"],
             expose_headers=["Server-Timing"], max_age=600)
        allow_timing(app, settings.cors_origins)
    register_error_handlers(app)
    # request id first (every later log line carries it), then security, audit and feedback
    # (docs/configuration-security.md): audit before auth, so 401s are logged too
    install_request_id(app)
    install_audit(app)
    policy = install_auth(app, settings)
    check_production(settings)
    install_response_headers(app, policy.required, settings.max_body_bytes)
    store = open_feedback_store(settings.feedback_db, settings.data_dir)
    app.extensions[FEEDBACK_STORE] = store
    if hasattr(store, "reachable"):  # a shared database: readiness reports whether it answers
        app.extensions.setdefault(READINESS_CHECKS, {})["feedback-database"] = store.reachable
    app.register_blueprint(operations.bp)  # /healthz, /livez, /readyz, /metrics
    app.register_blueprint(discovery.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(feedback.bp)
    if settings.environment in DEMO_ENVIRONMENTS:  # the newcomer's page at /; never in production
        app.register_blueprint(demo.bp)
    install_smart_app(app, settings)  # /app: the NET timeline (SMART on FHIR; samples in development)
    return app
