"""gunicorn settings of every shipped deployment: the Dockerfile and `net-cds serve` both load this file.

    gunicorn -c python:cds_service.gunicorn_conf cds_service.wsgi:app

Why these (audit issue 13):
- Slow clients: sync workers wait on one client at a time, so two connections sending a header byte every
  2 s stopped the service. Workers here are gevent workers (cds_service/gunicorn_worker.py): a waiting
  client costs a greenlet, not a worker; a request head must arrive within `keepalive` seconds and a
  request must be read and answered within NET_CDS_REQUEST_DEADLINE seconds, or the connection is closed.
- Memory: workers are recycled after `max_requests` requests, with jitter so they do not all restart at once.
- No client-supplied SCRIPT_NAME or X-Forwarded-* is honoured (`forwarded_allow_ips` is empty): the service
  builds no URL from them (the JWT audience is NET_CDS_PUBLIC_BASE_URL).
- No access log: the audit log (JSON lines on stderr, cds_service/logging_setup.py) records every request
  without its query string, where clients sometimes put tokens.
Every value can be changed with the environment variable named beside it.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


bind = [os.environ.get("NET_CDS_BIND", f"{os.environ.get('NET_CDS_HOST', '127.0.0.1')}:"
                                       f"{os.environ.get('NET_CDS_PORT', '8080')}")]
workers = _int("NET_CDS_WORKERS", 2)
worker_class = "cds_service.gunicorn_worker.DeadlineGeventWorker"
worker_connections = _int("NET_CDS_WORKER_CONNECTIONS", 500)  # open connections per worker
keepalive = _int("NET_CDS_HEADER_TIMEOUT", 5)  # seconds for a request head (and idle keep-alive)
timeout = 30  # a worker that does not check in for 30 s (a request stuck on the CPU) is restarted
graceful_timeout = 10
max_requests = _int("NET_CDS_MAX_REQUESTS", 2000)
max_requests_jitter = _int("NET_CDS_MAX_REQUESTS_JITTER", 200)
limit_request_line = 8190
limit_request_fields = 64
limit_request_field_size = 20 * 1024  # a JWT may be 16 KiB (security/jwt_auth.py MAX_TOKEN_CHARS)
forwarded_allow_ips = os.environ.get("NET_CDS_FORWARDED_ALLOW_IPS", "")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("NET_CDS_LOG_LEVEL", "INFO").lower()
