"""WSGI entry point for gunicorn: `gunicorn cds_service.wsgi:app` (each worker warms up on import).

Metrics: gunicorn's workers are separate processes, so prometheus-client must write to a folder they
share (PROMETHEUS_MULTIPROC_DIR) before it is imported. When the deployment does not set one, each
gunicorn run gets its own: a folder named after the master's pid (the workers' parent).
"""

import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = os.path.join(tempfile.gettempdir(), f"net-cds-metrics-{os.getppid()}")
    os.makedirs(_metrics_dir, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

from cds_service import create_app  # noqa: E402 - after the metrics folder is chosen
from cds_service.warmup import warm_up  # noqa: E402

app = create_app()
warm_up(app.config["NET_CDS"])
