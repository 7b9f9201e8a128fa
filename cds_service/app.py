"""The Flask application factory: configuration, blueprints, CORS, error handling."""

from __future__ import annotations

import logging

from flask import Flask
from flask_cors import CORS

from cds_service.config import Settings
from cds_service.web import discovery, hooks
from cds_service.web.errors import register_error_handlers


def create_app(config: Settings | dict | None = None) -> Flask:
    """Build the app. `config` is a Settings, a dict of Settings overrides, or None (environment)."""
    settings = config if isinstance(config, Settings) else Settings.from_env().with_overrides(**(config or {}))
    app = Flask(__name__)
    app.config["NET_CDS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("cds_service").setLevel(settings.log_level)
    if settings.cors_origins:
        CORS(app, resources={r"/cds-services*": {"origins": list(settings.cors_origins)}},
             methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type", "Authorization"],
             max_age=600)
    register_error_handlers(app)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(hooks.bp)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    return app
