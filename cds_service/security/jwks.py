"""Public keys of the trusted CDS clients: a JWK Set file (read once) and JWK Set URLs (cached).

URLs are only ever the configured NET_CDS_JWKS_URL ones or a token's `jku` when it is on
NET_CDS_ALLOWED_JKU; they are fetched with short timeouts, a total deadline, no redirects and a size
cap, cached for `lifespan` seconds and refreshed early (at most once per `cooldown`, failed attempts
included) when an unknown `kid` appears, so that key rotation works. A failed refresh keeps serving
the last good keys. Issuers with a pinned key set (NET_CDS_ISSUER_JWKS) are checked against that local
copy only, whatever `jku` their tokens name.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cds_service.fhir.transport import mount_checked

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
    fetched_at: float = float("-inf")  # last successful fetch
    attempted_at: float = float("-inf")  # last attempt, successful or not: the cooldown counts from here
    inflight: Future | None = None


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _fetch_pool() -> ThreadPoolExecutor:
    """Two background threads per process for JWK Set fetches (one at a time per URL)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jwks")
        return _executor


class KeyStore:
    """Looks up a client's public key by `kid` (and `jku` or a pinned issuer when the token names one).

    A fetch runs in a background thread, at most one per URL at a time and at most one attempt per
    `cooldown` whether it succeeded or not (audit issue 13: a failed fetch never started the cooldown, so
    every junk token fetched again). A request waits for it at most `fetch_deadline` seconds and holds no
    lock meanwhile; the fetch itself ends within its own deadline however slowly the server trickles.
    """

    def __init__(self, jwks_file: Path | None = None, jwks_urls: tuple[str, ...] = (), lifespan: float = 300.0,
                 cooldown: float = 30.0, timeout: tuple[float, float] = (2.0, 3.0), fetch_deadline: float = 3.0,
                 issuer_files: tuple[tuple[str, Path], ...] = ()) -> None:
        self._file_keys = load_jwks_file(jwks_file) if jwks_file else {}
        self._pinned = {issuer: load_jwks_file(path) for issuer, path in issuer_files}
        self._urls = jwks_urls
        self._lifespan = lifespan
        self._cooldown = cooldown
        self._timeout = timeout
        self._deadline = fetch_deadline
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def pins(self, issuer: object) -> bool:
        """Whether `issuer` has a pinned local key set (its tokens' `jku` is then never fetched)."""
        return isinstance(issuer, str) and issuer in self._pinned

    def keys_for(self, kid: str, jku: str | None = None, issuer: str | None = None) -> list[dict]:
        """Candidate JWKs for `kid`: the issuer's pinned set alone when it has one; else from `jku` alone
        when given (the caller checked the allowlist); else from the file and the configured URLs."""
        if issuer is not None and issuer in self._pinned:
            return list(self._pinned[issuer].get(kid, ()))
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
            wanted = now - cached.fetched_at > self._lifespan or kid not in cached.keys
            if wanted and cached.inflight is None and now - cached.attempted_at > self._cooldown:
                cached.attempted_at = now
                cached.inflight = _fetch_pool().submit(self._refresh, url, cached)
            found = list(cached.keys.get(kid, ()))
            inflight = cached.inflight
        if found or inflight is None:
            return found  # a known key is used at once, even while a refresh runs
        try:
            inflight.result(timeout=self._deadline)
        except FutureTimeout:
            log.warning("JWK Set %s not fetched within %.1f s; the token is refused", url, self._deadline)
            return []
        with self._lock:
            return list(cached.keys.get(kid, ()))

    def wait_for_refreshes(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for the fetches in flight: a refresh of known keys runs in the
        background while requests go on with the keys they have (tests use this to see its outcome)."""
        with self._lock:
            inflight = [c.inflight for c in self._cache.values() if c.inflight is not None]
        for future in inflight:
            try:
                future.result(timeout=timeout)
            except FutureTimeout:
                return

    def _refresh(self, url: str, cached: _Cached) -> None:
        try:
            keys = self._fetch(url)
        except KeyFetchError as exc:
            log.warning("JWK Set %s not refreshed (%s); using the last good keys", url, exc)
            keys = None
        except Exception as exc:  # never let a fetch thread die with the in-flight marker set
            log.warning("JWK Set %s not refreshed (%s); using the last good keys", url, type(exc).__name__)
            keys = None
        with self._lock:
            if keys is not None:
                cached.keys = keys
                cached.fetched_at = time.monotonic()
            cached.inflight = None

    def _fetch(self, url: str) -> dict[str, list[dict]]:
        deadline = time.monotonic() + self._deadline
        try:
            with mount_checked(requests.Session()) as session, session.get(
                    url, timeout=self._timeout, allow_redirects=False, stream=True,
                    headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise KeyFetchError(f"HTTP {response.status_code}")
                body = _read_until(response, MAX_JWKS_BYTES + 1, deadline)
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


def _read_until(response: requests.Response, limit: int, deadline: float) -> bytes:
    """At most `limit` bytes of the body, read as they arrive; KeyFetchError past `deadline`."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() > deadline:
            raise KeyFetchError("JWK Set not complete within the deadline")
        chunk = response.raw.read1(min(64 * 1024, limit - size), decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
