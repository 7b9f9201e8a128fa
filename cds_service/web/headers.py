"""Response headers every answer carries (audit issue 13, finding 9).

- `X-Content-Type-Options: nosniff` on everything: no answer is ever sniffed into something else.
- `Cache-Control: no-store` on hook and feedback answers and on every error: they hold patient-specific
  content or say something about the caller. Discovery may be cached publicly only when no token is
  required to read it; with authentication on, it is `private, no-store` like everything else.
- `Vary: Origin` on /cds-services*: CORS headers depend on the Origin, so a shared cache must not mix them.
- An error answered before the body was read (401, 413, 404) first reads what is left of the body, so that
  the client gets the answer rather than a TCP reset.
"""

from __future__ import annotations

from flask import Flask, Response, request

from cds_service.security.middleware import is_protected
from cds_service.web.request_body import drain_unread_body


def install_response_headers(app: Flask, auth_required: bool, max_body_bytes: int) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code >= 400 and not drain_unread_body(request, 2 * max_body_bytes):
            response.headers["Connection"] = "close"  # more left than is worth reading: say the connection ends
        if is_protected(request.path):
            response.vary.add("Origin")
            public_discovery = (not auth_required and request.method == "GET" and response.status_code == 200
                                and request.path.rstrip("/") == "/cds-services")
            if not public_discovery:
                response.headers["Cache-Control"] = "no-store"
        elif response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        return response
