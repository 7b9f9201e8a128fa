"""The gunicorn worker class of the shipped deployment (cds_service/gunicorn_conf.py).

gunicorn's gevent worker already bounds the wait for each request head by `keepalive` seconds. This
subclass also bounds the rest of a request, reading its body and answering it, by
NET_CDS_REQUEST_DEADLINE seconds (default 30; a hook call's own FHIR deadline is a few seconds): a client
that trickles its body is cut off there and its connection closed (audit issue 13, slowloris).
"""

from __future__ import annotations

import os

import gevent
from gunicorn.workers.ggevent import GeventWorker


class DeadlineGeventWorker(GeventWorker):
    """gevent worker with a deadline on each request after its head."""

    request_deadline = float(os.environ.get("NET_CDS_REQUEST_DEADLINE", "30"))

    def handle_request(self, listener_name, req, sock, addr):  # noqa: ANN001, ANN201
        timer = gevent.Timeout(self.request_deadline)
        timer.start()
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            self.log.warning("request from %s not done within %.0f s; connection closed", addr[0] if addr else "?",
                             self.request_deadline)
            raise StopIteration() from None  # gunicorn's way of closing the connection
        finally:
            timer.close()
