"""Shared fixtures: an app per test, a Flask client, and small FHIR builders."""

from __future__ import annotations

import pytest

from cds_service import create_app
from cds_service.config import Settings

FHIR_BASE = "https://ehr.example.org/fhir"


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Test settings: one allowlisted FHIR server, short timeouts, databases in a temporary folder."""
    return Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE,), fhir_timeout=1.0,
                                     fhir_total_timeout=2.0, fhir_page_size=0,
                                     feedback_db=str(tmp_path / "feedback.sqlite3"),
                                     jti_db=str(tmp_path / "jti.sqlite3"))


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL for the session (skipped where it cannot run: tests/postgres_cluster.py)."""
    from tests.postgres_cluster import PostgresCluster, unavailable_reason

    pytest.importorskip("psycopg")
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = PostgresCluster()
    try:
        cluster.init()
    except Exception as exc:
        cluster.destroy()
        pytest.skip(f"could not start a throwaway PostgreSQL: {exc}")
    yield cluster
    cluster.destroy()
