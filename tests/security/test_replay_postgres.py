"""The jti replay cache in PostgreSQL: one cache per replica, one database, a token accepted once overall."""

from __future__ import annotations

import time
import uuid

import pytest

from cds_service.postgres import PostgresDatabase
from cds_service.security.replay import MemoryReplayCache, SqliteReplayCache, open_replay_cache
from cds_service.security.replay_postgres import PostgresReplayCache
from tests.postgres_cluster import PostgresCluster, unavailable_reason

pytest.importorskip("psycopg")


def _replica(url: str, fallback=None, **kwargs) -> PostgresReplayCache:
    """retry_after=0: each call tries the database again (no outage window to wait out in a test)."""
    return PostgresReplayCache(PostgresDatabase(url, "NET_CDS_JTI_DB", retry_after=0), fallback, **kwargs)


def test_a_token_used_on_one_replica_is_refused_on_the_other(postgres_cluster):
    a, b = _replica(postgres_cluster.url), _replica(postgres_cluster.url)
    jti, exp = str(uuid.uuid4()), time.time() + 300
    assert a.first_use("iss", jti, exp) is True
    assert b.first_use("iss", jti, exp) is False
    assert a.first_use("iss", jti, exp) is False
    assert b.first_use("other-iss", jti, exp) is True  # (iss, jti) is the key


def test_an_expired_entry_no_longer_blocks_its_jti(postgres_cluster):
    cache = _replica(postgres_cluster.url)
    jti = str(uuid.uuid4())
    assert cache.first_use("iss", jti, time.time() - 1) is True
    assert cache.first_use("iss", jti, time.time() + 300) is True
    assert cache.first_use("iss", jti, time.time() + 300) is False


def test_a_proxy_retry_keeps_its_token_a_replay_does_not(postgres_cluster):
    """Behind the trusted proxy the retry of one request carries the proxy's request id again."""
    a, b = _replica(postgres_cluster.url), _replica(postgres_cluster.url)
    jti, exp = str(uuid.uuid4()), time.time() + 300
    assert a.first_use("iss", jti, exp, retry_key="req-1") is True
    assert b.first_use("iss", jti, exp, retry_key="req-1") is True  # the same request, retried on b
    assert b.first_use("iss", jti, exp, retry_key="req-2") is False  # another request with the token
    assert b.first_use("iss", jti, exp) is False
    plain = str(uuid.uuid4())
    assert a.first_use("iss", plain, exp) is True
    assert b.first_use("iss", plain, exp, retry_key=None) is False  # no id: never a retry


def test_bounded_refuses_new_tokens_when_full(postgres_cluster):
    import psycopg

    with psycopg.connect(postgres_cluster.url, autocommit=True) as conn:
        conn.execute("DELETE FROM net_cds_seen_jti")
    cache = _replica(postgres_cluster.url, max_entries=2, check_every=1)
    exp = time.time() + 300
    assert cache.first_use("iss", "j1", exp) and cache.first_use("iss", "j2", exp)
    assert cache.first_use("iss", "j3", exp) is False
    assert cache.first_use("iss", "j1", exp) is False


def test_open_replay_cache_chooses_postgres_for_a_url(postgres_cluster, tmp_path):
    cache = open_replay_cache(postgres_cluster.url, tmp_path / "jti.sqlite3")
    assert isinstance(cache, PostgresReplayCache)
    assert cache.reachable() is True
    assert isinstance(open_replay_cache("memory"), MemoryReplayCache)


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster this module may stop and start (the session's is shared with other tests)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = PostgresCluster().init()
    yield cluster
    cluster.destroy()


def test_database_outage_falls_back_to_the_host_cache_then_writes_back(own_cluster, tmp_path):
    host = SqliteReplayCache(tmp_path / "jti.sqlite3")
    a, b = _replica(own_cluster.url, host), _replica(own_cluster.url)
    fallbacks = []
    a.on_fallback = lambda: fallbacks.append(1)
    exp = time.time() + 300
    assert a.first_use("iss", "before", exp) is True
    own_cluster.stop()
    try:
        assert a.first_use("iss", "during", exp) is True  # the host cache answers
        assert a.first_use("iss", "during", exp) is False  # and still refuses a replay on this host
        assert a.first_use("iss", "before", exp) is True  # not in the host cache: the outage's known gap
        assert len(fallbacks) == 3
        assert a.reachable() is False
    finally:
        own_cluster.start()
    assert a.first_use("iss", "after", exp) is True  # back on PostgreSQL; the outage's tokens written back
    assert b.first_use("iss", "during", exp) is False  # so the other replica refuses them now


def test_refuse_mode_fails_closed_when_the_database_is_down(tmp_path):
    from tests.postgres_cluster import free_port

    cache = open_replay_cache(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", tmp_path / "j.sqlite3",
                              fallback="refuse")
    with pytest.raises(ConnectionError):
        cache.first_use("iss", "j", time.time() + 300)
    local = open_replay_cache(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", tmp_path / "j.sqlite3")
    assert local.first_use("iss", "j", time.time() + 300) is True
