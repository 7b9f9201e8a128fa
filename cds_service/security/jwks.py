"""Public keys of the trusted CDS clients: a JWK Set file (read once) and JWK Set URLs (cached).

URLs are only ever the configured NET_CDS_JWKS_URL ones or a token's `jku` when it is on
NET_CDS_ALLOWED_JKU; they are fetched with short timeouts, no redirects and a size cap, cached for
`lifespan` seconds and refreshed early (at most once per `cooldown`) when an unknown `kid` appears,
so that key rotation works. A failed refresh keeps serving the last good keys.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024


class KeyFetchError(Exception):
    """A JWK Set could not be loaded."""


def parse_jwks(data: object) -> dict[str, list[dict]]:
    """Signing keys of a JWK Set by kid. Symmetric (`oct`) and non-signature keys are dropped."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeyFetchError("not a JWK Set (no 'keys' array)")
    keys: dict[str, list[dict]] = {}
    for jwk in data["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") not in ("RSA", "EC") or jwk.get("use", "sig") != "sig":
            continue
        keys.setdefault(jwk["kid"], []).append(jwk)
    return keys


def load_jwks_file(path: Path) -> dict[str, list[dict]]:
    try:
        return parse_jwks(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise KeyFetchError(f"cannot read JWK Set file {path}: {type(exc).__name__}") from exc


@dataclass
class _Cached:
    keys: dict[str, list[dict]] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    attempted_at: float = float("-inf")


class KeyStore:
    """Looks up a client's public key by `kid` (and `jku` when the token names one)."""

    def __init__(self, jwks_file: Path | None = None, jwks_urls: tuple[str, ...] = (), lifespan: float = 300.0,
                 cooldown: float = 30.0, timeout: tuple[float, float] = (2.0, 3.0)) -> None:
        self._file_keys = load_jwks_file(jwks_file) if jwks_file else {}
        self._urls = jwks_urls
        self._lifespan = lifespan
        self._cooldown = cooldown
        self._timeout = timeout
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def keys_for(self, kid: str, jku: str | None = None) -> list[dict]:
        """Candidate JWKs for `kid`: from `jku` alone when given (the caller checked the allowlist),
        else from the file and the configured URLs."""
        if jku is not None:
            return self._from_url(jku, kid)
        found = list(self._file_keys.get(kid, ()))
        for url in self._urls:
            if found:
                break
            found = self._from_url(url, kid)
        return found

    def loaded(self) -> bool:
        """For readiness: some key is at hand (file keys, or a JWK Set URL fetched now or before).
        With only `jku` allowlisted there is nothing to load ahead, so that counts as loaded."""
        if self._file_keys:
            return True
        if not self._urls:
            return True
        for url in self._urls:
            self._from_url(url, "")  # fetches when stale (bounded by the timeouts and the cooldown)
        with self._lock:
            return any(cached.keys for cached in self._cache.values())

    def _from_url(self, url: str, kid: str) -> list[dict]:
        with self._lock:
            cached = self._cache.setdefault(url, _Cached())
            now = time.monotonic()
            stale = now - cached.fetched_at > self._lifespan
            unknown_kid = kid not in cached.keys and now - cached.attempted_at > self._cooldown
            if stale or unknown_kid:
                cached.attempted_at = now
                try:
                    cached.keys = self._fetch(url)
                    cached.fetched_at = now
                except KeyFetchError as exc:
                    log.warning("JWK Set %s not refreshed (%s); using the last good keys", url, exc)
            return list(cached.keys.get(kid, ()))

    def _fetch(self, url: str) -> dict[str, list[dict]]:
        try:
            with requests.get(url, timeout=self._timeout, allow_redirects=False, stream=True,
                              headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise KeyFetchError(f"HTTP {response.status_code}")
                body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        except KeyFetchError:
            raise
        except Exception as exc:  # requests and urllib3 errors (timeouts while streaming included)
            raise KeyFetchError(type(exc).__name__) from exc
        if len(body) > MAX_JWKS_BYTES:
            raise KeyFetchError("JWK Set larger than 256 KiB")
        try:
            return parse_jwks(json.loads(body))
        except ValueError as exc:
            raise KeyFetchError("not JSON") from exc
