"""The Flask side: every /cds-services* request (discovery, hooks, feedback) needs a valid JWT.

Not protected: /healthz, /livez, /readyz, /metrics (web/operations.py) and CORS preflight (OPTIONS)
requests, which carry no credentials. Every refusal is counted by reason (net_cds_auth_failures_total).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from flask import Flask, Response, g, request

from cds_service import metrics
from cds_service.config import Settings
from cds_service.security.jwks import KeyFetchError, KeyStore
from cds_service.security.jwt_auth import AuthError, TokenVerifier, bearer_token
from cds_service.security.policy import AuthPolicy, StartupError
from cds_service.security.replay import open_replay_cache
from cds_service.warmup import is_warm_up
from cds_service.web.errors import unauthorized
from cds_service.web.operations import READINESS_CHECKS

log = logging.getLogger("cds_service.security")

PROTECTED_PREFIX = "/cds-services"

DISABLED_WARNING = (
    "\n" + "!" * 78 + "\n"
    "!! AUTHENTICATION IS DISABLED (NET_CDS_AUTH=disabled / NET_CDS_ENV=%s).\n"
    "!! Any caller can invoke the CDS services and send feedback. Use only for the local demo\n"
    "!! and development; set NET_CDS_ENV=production or NET_CDS_AUTH=required otherwise.\n"
    + "!" * 78
)


def is_protected(path: str) -> bool:
    collapsed = "/" + "/".join(part for part in path.split("/") if part)
    return collapsed.lower() == PROTECTED_PREFIX or collapsed.lower().startswith(PROTECTED_PREFIX + "/")


def expected_audience(policy: AuthPolicy) -> str:
    """The URL this request was made to, as the client sees it: the JWT `aud` must equal it."""
    base = policy.public_base_url or request.url_root.rstrip("/")
    return base + request.path


def install_auth(app: Flask, settings: Settings) -> AuthPolicy:
    """Check the configuration (StartupError if unsafe) and, when required, guard the endpoints."""
    policy = AuthPolicy.from_settings(settings)
    if not policy.required:
        log.warning(DISABLED_WARNING, settings.environment)
        return policy
    if not policy.public_base_url:  # never in production: config.check_production refuses to start
        log.warning("NET_CDS_PUBLIC_BASE_URL is not set: the JWT audience is checked against the Host "
                    "header of each request. Set it to the URL the EHRs call.")
    try:
        keys = KeyStore(policy.jwks_file, policy.jwks_urls, issuer_files=policy.issuer_jwks)
    except KeyFetchError as exc:
        raise StartupError(f"NET_CDS_JWKS_FILE / NET_CDS_ISSUER_JWKS: {exc}") from exc
    try:
        replay = open_replay_cache(policy.jti_db, Path(policy.jti_host_db) if policy.jti_host_db else None,
                                   policy.jti_fallback)
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(f"NET_CDS_JTI_DB {policy.jti_db} cannot be opened ({type(exc).__name__}); "
                           "set it to a writable path or 'memory'.") from exc
    if hasattr(replay, "on_fallback"):
        replay.on_fallback = metrics.JTI_FALLBACK.inc
    verifier = TokenVerifier(policy, keys, replay)
    app.extensions["net_cds_auth"] = verifier
    app.extensions.setdefault(READINESS_CHECKS, {})["keys"] = keys.loaded
    if hasattr(replay, "reachable"):
        app.extensions[READINESS_CHECKS]["jti-database"] = replay.reachable

    @app.before_request
    def _authenticate() -> Response | None:
        if request.method == "OPTIONS" or not is_protected(request.path) or is_warm_up(request.environ):
            return None  # the warm-up: an in-process call no network request can pose as (cds_service/warmup.py)
        # Behind the trusted proxy, X-Request-Id is the proxy's own id, the same when it retries a call on
        # another replica: that retry keeps its token (security/replay_postgres.py).
        retry_key = request.headers.get("X-Request-Id") if policy.trusted_proxy else None
        try:
            claims = verifier.verify(bearer_token(request.headers.get("Authorization")), expected_audience(policy),
                                     retry_key)
        except AuthError as exc:
            return _refuse(exc.reason)
        except Exception as exc:  # fail closed, whatever broke
            log.error("token verification failed unexpectedly: %s", type(exc).__name__)
            return _refuse("error")
        g.auth = {"result": "ok", "iss": claims["iss"], "jti": claims["jti"]}
        if isinstance(claims.get("tenant"), str):
            g.auth["tenant"] = claims["tenant"]
        return None

    return policy


def _refuse(reason: str) -> Response:
    g.auth = {"result": reason}
    metrics.observe_auth_failure(reason)
    return unauthorized()
