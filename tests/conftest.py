"""Shared fixtures: an app per test, a Flask client, and small FHIR builders; the checkout is left untouched."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from cds_service import create_app
from cds_service.config import REPO_ROOT, Settings
from tests.checkout_guard import changes, snapshot

FHIR_BASE = "https://ehr.example.org/fhir"
_HYPOTHESIS_HOME: list[str] = []
_SESSION_STATE: list[Path] = []  # the session's temporary state folder, while the session runs


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its example database and caches in a temporary folder, not in .hypothesis/ here."""
    _HYPOTHESIS_HOME.append(tempfile.mkdtemp(prefix="net-cds-hypothesis-"))
    set_hypothesis_home_dir(_HYPOTHESIS_HOME[-1])


def pytest_unconfigure(config: pytest.Config) -> None:
    while _HYPOTHESIS_HOME:
        shutil.rmtree(_HYPOTHESIS_HOME.pop(), ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def state_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Databases in a temporary folder for everything that reads the environment (the CLI, gunicorn);
    after the run, fail if any untracked file in the checkout (var/ above all) was created or changed."""
    state = tmp_path_factory.mktemp("state")
    before = snapshot(REPO_ROOT)
    _SESSION_STATE.append(state)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NET_CDS_FEEDBACK_DB", str(state / "feedback.sqlite3"))
        patch.setenv("NET_CDS_JTI_DB", str(state / "jti.sqlite3"))
        yield state
    _SESSION_STATE.remove(state)
    touched = changes(before, snapshot(REPO_ROOT))
    if touched:
        pytest.fail("the tests wrote into the checkout (state belongs in temporary folders):\n  "
                    + "\n  ".join(touched[:30]), pytrace=False)


def isolated(settings: Settings, folder: Path | None = None) -> Settings:
    """`settings` with the feedback database and the jti cache in `folder` (default: the session's temporary
    state folder), never in the checkout's var/."""
    folder = folder or _SESSION_STATE[-1]
    return settings.with_overrides(feedback_db=str(folder / "feedback.sqlite3"), jti_db=str(folder / "jti.sqlite3"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Test settings: one allowlisted FHIR server, timeouts a busy machine does not reach, databases in a
    temporary folder."""
    return isolated(Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE,), fhir_timeout=10.0,
                                              fhir_total_timeout=20.0, fhir_page_size=0), tmp_path)


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
