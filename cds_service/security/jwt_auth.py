"""Verification of the CDS client's JWT (CDS Hooks 2.0 §Trusting CDS Clients and best practices).

Order: header (typ, alg on the asymmetric allowlist, kid) -> the claims read unverified (iss allowlisted,
aud = the exact endpoint URL, exp/iat/nbf numbers, not expired, sub, bounded lifetime, tenant) -> jku on
the allowlist unless the issuer's keys are pinned -> signature length -> key -> signature -> the same
claims verified -> jti not seen before. Every failure is an AuthError
whose `reason` is a short code for the audit log; the HTTP answer is a bare 401.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import sqlite3
import time
from typing import Any

import jwt

from cds_service.security.jwks import KeyStore
from cds_service.security.policy import ALGORITHMS, AuthPolicy
from cds_service.security.replay import ReplayCache

log = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 16 * 1024
_FAMILY = {"RSA": ("RS", "PS"), "EC": ("ES",)}


class AuthError(Exception):
    """Authentication failed. `reason` is safe to log (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Signature lengths in bytes: ECDSA (r || s) by curve; RSA at least 2048 and at most 8192 bits.
_EC_SIGNATURE_BYTES = {"ES256": 64, "ES384": 96, "ES512": 132}


def _check_signature_length(token: str, alg: str) -> None:
    """A token whose signature cannot be one of `alg` is refused before any key is looked up."""
    signature = token.rsplit(".", 1)[-1]
    try:
        size = len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise AuthError("bad-signature") from exc
    expected = _EC_SIGNATURE_BYTES.get(alg)
    if (expected is not None and size != expected) or (expected is None and not 256 <= size <= 1024):
        raise AuthError("bad-signature")


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not header:
        raise AuthError("missing-token")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("not-bearer")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError("token-too-long")
    return token


class TokenVerifier:
    """Checks one token against the policy; thread-safe."""

    def __init__(self, policy: AuthPolicy, keys: KeyStore, replay: ReplayCache, clock=time.time) -> None:
        self.policy = policy
        self.keys = keys
        self.replay = replay
        self._clock = clock

    def verify(self, token: str, audience: str, retry_key: str | None = None) -> dict[str, Any]:
        """The verified claims, or AuthError. `retry_key`: see ReplayCache.first_use.

        Everything that can be checked without a key is checked before a key is looked up: the header, the
        claims' shape and values (read unverified), the signature's length. A junk or unsigned token is thus
        refused without ever causing a JWK Set fetch (audit issue 13)."""
        header = self._header(token)
        alg, kid, jku = header["alg"], header["kid"], header.get("jku")
        unverified = self._unverified_claims(token, audience)
        iss = unverified["iss"]
        if jku is not None and not self.keys.pins(iss) and (not isinstance(jku, str)
                                                               or jku not in self.policy.allowed_jku):
            raise AuthError("jku-not-allowed")
        _check_signature_length(token, alg)
        candidates = self.keys.keys_for(kid, jku, iss)
        if not candidates:
            raise AuthError("unknown-kid")
        claims = self._decode(token, alg, candidates, audience)
        self._check_claims(claims)
        try:
            first = self.replay.first_use(claims["iss"], claims["jti"], float(claims["exp"]) + self.policy.leeway,
                                          retry_key)
        except (sqlite3.Error, ConnectionError) as exc:
            log.error("jti replay cache unavailable (%s); refusing the request", type(exc).__name__)
            raise AuthError("replay-cache-unavailable") from exc
        if not first:
            raise AuthError("replayed-jti")
        return claims

    def _header(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("malformed-token") from exc
        if str(header.get("typ", "")).upper() != "JWT":
            raise AuthError("bad-typ")
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("alg-not-allowed")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise AuthError("missing-kid")
        return header

    def _unverified_claims(self, token: str, audience: str) -> dict[str, Any]:
        """The claims, read before the signature is checked, when their shape and values could be accepted.

        The same checks run again on the verified claims; here they only spare junk tokens a key lookup."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError("malformed-token") from exc
        for name in ("iss", "aud", "exp", "iat", "jti"):
            if name not in claims:
                raise AuthError(f"missing-{name}")
        self._check_claims(claims)
        aud = claims["aud"]
        if not (aud == audience or (isinstance(aud, list) and audience in aud)):
            raise AuthError("wrong-aud")
        if float(claims["exp"]) + self.policy.leeway < self._clock():
            raise AuthError("expired")
        return claims

    def _decode(self, token: str, alg: str, candidates: list[dict], audience: str) -> dict[str, Any]:
        last: Exception | None = None
        for jwk in candidates:
            if jwk.get("alg") not in (None, alg) or not alg.startswith(_FAMILY.get(jwk.get("kty", ""), ())):
                continue
            try:
                key = jwt.PyJWK(jwk, algorithm=alg)
            except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
                last = exc
                continue
            try:
                return jwt.decode(
                    token, key=key, algorithms=[alg], audience=audience, leeway=self.policy.leeway,
                    options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_nbf": True},
                )
            except jwt.InvalidSignatureError as exc:
                last = exc  # another key with the same kid may verify it (rotation overlap)
            except jwt.ExpiredSignatureError as exc:
                raise AuthError("expired") from exc
            except jwt.InvalidAudienceError as exc:
                raise AuthError("wrong-aud") from exc
            except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
                raise AuthError("bad-iat") from exc
            except jwt.MissingRequiredClaimError as exc:
                raise AuthError(f"missing-{exc.claim}") from exc
            except (jwt.PyJWTError, ValueError, TypeError) as exc:
                raise AuthError("invalid-token") from exc
        raise AuthError("bad-signature" if isinstance(last, jwt.InvalidSignatureError) else "unusable-key")

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if not isinstance(claims.get("iss"), str) or claims["iss"] not in self.policy.trusted_issuers:
            raise AuthError("untrusted-iss")
        for name in ("exp", "iat", "nbf"):  # NumericDate: a JSON number (PyJWT also takes "1700000000")
            if name in claims and (type(claims[name]) not in (int, float) or not math.isfinite(claims[name])):
                raise AuthError(f"bad-{name}")
        sub = claims.get("sub")
        if sub is None and self.policy.require_sub:
            raise AuthError("missing-sub")
        if sub is not None and (not isinstance(sub, str) or not sub or len(sub) > 256):
            raise AuthError("bad-sub")
        if not isinstance(claims.get("jti"), str) or not claims["jti"] or len(claims["jti"]) > 256:
            raise AuthError("bad-jti")
        if float(claims["exp"]) > self._clock() + self.policy.max_lifetime + self.policy.leeway:
            raise AuthError("lifetime-too-long")
        if self.policy.trusted_tenants and claims.get("tenant") not in self.policy.trusted_tenants:
            raise AuthError("untrusted-tenant")
