"""JWK Set loading (file, URL, jku: cache, rotation, failure) and the jti replay caches."""

from __future__ import annotations

import json
import threading

import pytest
import requests
import responses

from cds_service import create_app
from cds_service.security.jwks import MAX_JWKS_BYTES, KeyFetchError, KeyStore, load_jwks_file
from cds_service.security.policy import StartupError
from cds_service.security.replay import MemoryReplayCache, SqliteReplayCache
from tests.security.conftest import bearer, jwks, mint

JWKS_URL = "https://ehr.example.org/jwks"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- JWK Sets -----------------------------------------------------------------------------------

def test_symmetric_and_encryption_keys_are_ignored(tmp_path, keys):
    path = tmp_path / "jwks.json"
    enc = {**keys["rs384"].jwk(), "kid": "enc", "use": "enc"}
    path.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}, enc,
                                         keys["es384"].jwk()]}))
    assert set(load_jwks_file(path)) == {keys["es384"].kid}


def test_jwks_url_keys_are_cached_and_refreshed_for_an_unknown_kid(keys, monkeypatch):
    store = KeyStore(jwks_urls=(JWKS_URL,), cooldown=0.0)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=jwks(keys["es384"]))
        assert store.keys_for(keys["es384"].kid) and store.keys_for(keys["es384"].kid)
        assert len(rsps.calls) == 1
        rsps.replace(responses.GET, JWKS_URL, json=jwks(keys["es384"], keys["jku"]))  # the EHR rotated keys
        assert store.keys_for(keys["jku"].kid)
        assert len(rsps.calls) == 2


def test_unknown_kid_refresh_is_rate_limited(keys):
    store = KeyStore(jwks_urls=(JWKS_URL,), cooldown=3600.0)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=jwks(keys["es384"]))
        for _ in range(5):
            assert store.keys_for("no-such-kid") == []
        assert len(rsps.calls) == 1


@pytest.mark.parametrize("failure", [
    {"status": 500}, {"body": "not json"}, {"body": requests.ConnectTimeout()}, {"json": {"no": "keys"}},
    {"body": b"{" + b" " * (MAX_JWKS_BYTES + 10) + b"}"},
])
def test_failed_refresh_keeps_the_last_good_keys(keys, failure):
    store = KeyStore(jwks_urls=(JWKS_URL,), lifespan=0.0, cooldown=0.0)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=jwks(keys["es384"]))
        assert store.keys_for(keys["es384"].kid)
        rsps.replace(responses.GET, JWKS_URL, **failure)
        assert store.keys_for(keys["es384"].kid)  # the known key at once, the refresh in the background
        store.wait_for_refreshes(10)
        assert len(rsps.calls) == 2
        assert store.keys_for(keys["es384"].kid)  # the refresh failed: the last good keys stay
        store.wait_for_refreshes(10)  # (that call started another refresh: let it end inside this mock)


def test_app_with_a_jwks_url(tmp_path, auth_settings, keys):
    app = create_app(auth_settings.with_overrides(jwks_file=None, jwks_urls=(JWKS_URL,)))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=jwks(keys["rs384"]))
        assert app.test_client().get("/cds-services", headers=bearer(mint(keys["rs384"]))).status_code == 200
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:  # unknown kid, JWKS down
        rsps.add(responses.GET, JWKS_URL, body=requests.ConnectionError())
        assert app.test_client().get("/cds-services", headers=bearer(mint(keys["es384"]))).status_code == 401


def test_unreadable_jwks_file_is_a_startup_error(tmp_path, auth_settings):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(StartupError):
        create_app(auth_settings.with_overrides(jwks_file=bad))
    with pytest.raises(StartupError):
        create_app(auth_settings.with_overrides(jwks_file=tmp_path / "missing.json"))


def test_key_fetch_error_is_not_raised_for_bad_sets():
    with pytest.raises(KeyFetchError):
        from cds_service.security.jwks import parse_jwks

        parse_jwks([])


# --- replay caches ------------------------------------------------------------------------------

@pytest.fixture(params=["memory", "sqlite"])
def make_cache(request, tmp_path):
    def make(clock: Clock, max_entries: int = 1000):
        if request.param == "memory":
            return MemoryReplayCache(max_entries=max_entries, clock=clock)
        return SqliteReplayCache(tmp_path / "jti.sqlite3", max_entries=max_entries, clock=clock, check_every=1)
    return make


def test_first_use_wins_until_expiry(make_cache):
    clock = Clock()
    cache = make_cache(clock)
    assert cache.first_use("iss", "a", expires_at=1100)
    assert not cache.first_use("iss", "a", expires_at=1100)
    assert cache.first_use("other-iss", "a", expires_at=1100)  # jti is unique per issuer
    clock.now = 1101
    assert cache.first_use("iss", "a", expires_at=1200)  # the old token has expired: its jti may return


def test_full_cache_fails_closed_rather_than_forgetting(make_cache):
    clock = Clock()
    cache = make_cache(clock, max_entries=3)
    assert all(cache.first_use("iss", j, expires_at=2000) for j in "abc")
    assert not cache.first_use("iss", "d", expires_at=2000)
    assert not cache.first_use("iss", "a", expires_at=2000)  # still remembered


def test_sqlite_cache_is_shared_between_instances(tmp_path):
    first = SqliteReplayCache(tmp_path / "jti.sqlite3")
    second = SqliteReplayCache(tmp_path / "jti.sqlite3")
    assert first.first_use("iss", "x", expires_at=2**40)
    assert not second.first_use("iss", "x", expires_at=2**40)


def test_concurrent_first_use_admits_exactly_one(tmp_path):
    caches = [SqliteReplayCache(tmp_path / "jti.sqlite3") for _ in range(8)]
    results: list[bool] = []
    lock = threading.Lock()

    def attempt(cache: SqliteReplayCache) -> None:
        ok = cache.first_use("iss", "same", expires_at=2**40)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_unwritable_jti_db_is_a_startup_error(tmp_path, auth_settings):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StartupError, match="NET_CDS_JTI_DB"):
        create_app(auth_settings.with_overrides(jti_db=str(blocker / "jti.sqlite3")))
