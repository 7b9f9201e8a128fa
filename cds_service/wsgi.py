"""WSGI entry point for gunicorn: `gunicorn cds_service.wsgi:app` (each worker warms up on import)."""

from cds_service import create_app
from cds_service.warmup import warm_up

app = create_app()
warm_up(app.config["NET_CDS"])
