"""WSGI entry point for gunicorn: `gunicorn -c python:cds_service.gunicorn_conf cds_service.wsgi:app`.

Logging is configured here first (JSON lines on stderr, cds_service/logging_setup.py), so that every
deployment writes the audit log; each worker then builds its app and warms up on import.
A configuration the service cannot run with is one line on stderr and exit status 4, which makes
gunicorn stop ("App failed to load") instead of restarting workers that would fail the same way.

Metrics: gunicorn's workers are separate processes, so prometheus-client must write to a folder they
share (PROMETHEUS_MULTIPROC_DIR) before it is imported. When the deployment does not set one, each
gunicorn run gets its own: a folder named after the master's pid (the workers' parent).
"""

import os
import sys
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = os.path.join(tempfile.gettempdir(), f"net-cds-metrics-{os.getppid()}")
    os.makedirs(_metrics_dir, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

from flask import Flask  # noqa: E402 - after the metrics folder is chosen

from cds_service import create_app  # noqa: E402
from cds_service.config import Settings, StartupError  # noqa: E402
from cds_service.logging_setup import configure_logging  # noqa: E402
from cds_service.warmup import warm_up  # noqa: E402

APP_LOAD_ERROR = 4  # gunicorn's exit status for "the application cannot be loaded"


def application() -> Flask:
    """The app, warmed up; exits with one line naming the settings to fix when it cannot start."""
    try:
        configure_logging(Settings.from_env().log_level)
        flask_app = create_app()
    except StartupError as exc:
        print(f"NET-CDS cannot start: {exc}", file=sys.stderr, flush=True)
        sys.exit(APP_LOAD_ERROR)
    warm_up(flask_app)
    return flask_app


app = application()
