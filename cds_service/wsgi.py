"""WSGI entry point for gunicorn: `gunicorn -c python:cds_service.gunicorn_conf cds_service.wsgi:app`.

Logging is configured here (JSON lines on stderr), so that every deployment writes the audit log; each
worker warms up on import.
"""

from cds_service.config import Settings
from cds_service.logging_setup import configure_logging

configure_logging(Settings.from_env().log_level)

from cds_service import create_app  # noqa: E402  (after logging: start-up messages are JSON lines too)
from cds_service.warmup import warm_up  # noqa: E402

app = create_app()
warm_up(app.config["NET_CDS"])
