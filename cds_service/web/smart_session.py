"""The SMART app's session: one cookie, encrypted and signed (Fernet), so replicas share no state.

It holds the launch in progress (fhirclient's state: PKCE verifier, OAuth state, endpoints) and then the
clinician's access token with the patient and FHIR server. Encryption keeps the token and the verifier
from anyone who sees the cookie; the signature and the age limit make a forged or stale cookie worth
nothing. The key comes from NET_CDS_SMART_SESSION_KEY, the same on every replica.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import Request, Response

COOKIE = "net_cds_smart"
LAUNCH_MAX_AGE = 600  # seconds between the launch and the callback
SESSION_MAX_AGE = 3600  # seconds a signed-in session lasts (the token's own expiry may be sooner)


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def load(request: Request, secret: str, max_age: int) -> dict[str, Any] | None:
    """The session, or None when there is none, it was not made with this key, or it is older than max_age."""
    raw = request.cookies.get(COOKIE)
    if not raw or not secret:
        return None
    try:
        value = json.loads(_fernet(secret).decrypt(raw.encode(), ttl=max_age))
    except (InvalidToken, ValueError):
        return None
    return value if isinstance(value, dict) else None


def save(response: Response, secret: str, value: dict[str, Any], secure: bool) -> None:
    """Set the session cookie: HttpOnly; in production Secure and SameSite=None, so that it also works
    when the EHR shows the app in a frame (over plain http browsers refuse SameSite=None: Lax there)."""
    token = _fernet(secret).encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()
    response.set_cookie(COOKIE, token, max_age=SESSION_MAX_AGE, httponly=True, secure=secure,
                        samesite="None" if secure else "Lax", path="/app")


def clear(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/app", secure=secure, httponly=True)
