"""Three real FHIR R4 servers on 127.0.0.1 for the integration suite, started once per test session.

* medplum: Medplum's FHIR engine (@medplum/fhir-router 5.2.13, in-memory) on Node 22, behind our HTTP
  front tests/integration/servers/medplum/server.mjs (paging links and the bearer check are ours).
* sekmet:  sekmet-fhir 0.1.1 (FastAPI + SQLite, HAPI-like `next` paging), in its own venv.
* hapi:    HAPI FHIR 8.8.0's R4 JPA server (the software behind the public sandbox; H2 in memory), built
           with Maven from tests/integration/servers/hapi/. It starts slowly, so it is launched when the
           tests are collected and the tests that use it run last.

All three require a static bearer token, so every test that reads data also proves the token is forwarded.
`tests/integration/servers/install` puts them in .fhir-servers/ (`scripts/bootstrap --test` runs it).
Not installed: skipped locally with the reason, a failure under CI=true. Installed but not starting:
always a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from cds_service.config import REPO_ROOT, Settings
from cds_service.fhir.upload import UploadError, upload_bundle
from cds_service.samples import list_samples
from cds_service.tiny_ehr import patient_id_of
from tests.conftest import isolated
from tests.integration.processes import start, stop
from tests.integration.server_process import Launch, StartFailed, launch, wait_ready

SERVERS_SRC = Path(__file__).parent / "servers"
INSTALL_DIR = Path(os.environ.get("NET_CDS_FHIR_SERVERS_DIR", REPO_ROOT / ".fhir-servers"))
DATA_DIR = Path(__file__).parent / "data"
START_TIMEOUT = 60.0
HAPI_START_TIMEOUT = 300.0  # JVM + Spring + Hibernate: 20-30 s alone, up to 130 s measured with the machine busy
HAPI_INSTALLED = INSTALL_DIR / "hapi" / "lib" / "hapi-test-server-1.jar"
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
SERVER_NAMES = ("medplum", "sekmet", "hapi")

# Sample defects a real server revealed, reported to the samples' owner: server -> [(the defect, found in the
# bundle by a check; the server's words refusing it)]. A sample's tests are xfailed on that server only while
# the sample has the defect AND the server refuses it for exactly that reason; any other refusal fails.


def _derived_from_a_report(bundle: dict) -> bool:
    """An Observation whose derivedFrom names a DiagnosticReport (R4 allows it only from DiagnosticReport.result)."""
    return any(entry["resource"].get("resourceType") == "Observation"
               and any(str(ref.get("reference", "")).startswith("DiagnosticReport/")
                       for ref in entry["resource"].get("derivedFrom") or ())
               for entry in bundle.get("entry") or ())


KNOWN_SAMPLE_DEFECTS: dict[str, list[tuple[Callable[[dict], bool], str]]] = {
    # HAPI checks reference targets against R4's allowed types (the samples' Krenning-score Observations).
    "hapi": [(_derived_from_a_report,
              "Invalid reference found at path 'Observation.derivedFrom'. Resource type 'DiagnosticReport'")],
}


def known_defect(server: str, bundle: dict) -> str | None:
    """The words with which `server` refuses this bundle for a known sample defect, if it has one."""
    return next((words for has, words in KNOWN_SAMPLE_DEFECTS.get(server, ()) if has(bundle)), None)


# What a server cannot search, as it answers with Prefer: handling=strict: (server, prefetch key) -> its
# words. The service must turn such a query into a data-quality note (and never read other patients' data).
SERVER_LIMITS: dict[tuple[str, str], str] = {
    ("sekmet", "familyHistory"): "Unknown search parameter 'patient' for FamilyMemberHistory",
}


@dataclass
class FhirTestServer:
    """A running FHIR server: its base URL, the bearer token it demands, its process and log."""

    name: str
    base_url: str
    token: str
    process: subprocess.Popen
    log: Path
    loaded: bool = False
    load_errors: dict[str, str] = field(default_factory=dict)
    known_defects: dict[str, str] = field(default_factory=dict)  # patient id -> the expected refusal

    def require_loaded(self, patient_id: str) -> None:
        """Fail (or xfail, for a known sample defect) a test whose patient the server refused."""
        error = self.load_errors.get(patient_id)
        if error is None:
            return
        known = self.known_defects.get(patient_id)
        if known and known in error:
            pytest.xfail(f"known sample defect, refused by {self.name}: {error}")
        pytest.fail(f"{self.name} refused patient {patient_id}: {error}", pytrace=False)

    def get(self, path: str, **params: str) -> dict:
        """A JSON GET on the server with the token (for the tests' own checks), never from a search cache (HAPI
        reuses a search's results for 60 s otherwise, which would make a before/after comparison vacuous)."""
        url = path if path.startswith("http") else f"{self.base_url}/{path}"
        response = requests.get(url, params=params or None, timeout=60,
                                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json",
                                         "Cache-Control": "no-cache"})
        response.raise_for_status()
        return response.json()


@dataclass(frozen=True)
class LoadedPatient:
    """One patient bundle loaded into the servers: a sample, or one of the suite's own (tests/integration/data)."""

    id: str
    bundle: dict
    draft_orders: dict | None = None


def all_patients() -> list[LoadedPatient]:
    """The suite's own small bundles, then every sample patient in samples/."""
    patients = []
    for file in sorted(DATA_DIR.glob("*.json")):
        bundle = json.loads(file.read_text(encoding="utf-8"))
        patients.append(LoadedPatient(patient_id_of(bundle), bundle))
    for sample in list_samples():
        bundle = sample.bundle()
        patients.append(LoadedPatient(patient_id_of(bundle), bundle, sample.draft_orders()))
    return patients


def unavailable(reason: str) -> None:
    """A server that is not installed: skip locally, fail loudly in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the integration servers must be installed; "
                    "run tests/integration/servers/install)", pytrace=False)
    pytest.skip(f"{reason}; run tests/integration/servers/install")


def _running(name: str, started: Launch, timeout: float) -> FhirTestServer:
    """Wait for a launched server; a server that is installed but does not start is always a failure."""
    try:
        wait_ready(started, timeout)
    except StartFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    return FhirTestServer(name, started.base_url, started.token, started.process, started.log)


def _serve(name: str, installed: Path, base_path: str, workdir: Path, env: dict[str, str]) -> FhirTestServer:
    """Start `servers/serve NAME` (it execs the server, so the process is the server) on a free port and
    wait, patiently, until GET /metadata answers 200."""
    if not installed.exists():
        unavailable(f"the {name} FHIR server is not installed ({installed} is missing)")
    token = f"itest-{secrets.token_hex(12)}"
    started = start(f"the {name} FHIR server", [str(SERVERS_SRC / "serve"), name], cwd=workdir,
                    env={"TOKEN": token, "NET_CDS_FHIR_SERVERS_DIR": str(INSTALL_DIR), **env},
                    ready_url=lambda port: f"http://127.0.0.1:{port}{base_path}/metadata", log=workdir / "server.log")
    return FhirTestServer(name, f"http://127.0.0.1:{started.port}{base_path}", token, started.process, started.log)


# HAPI boots early (see pytest_collection_modifyitems) and its tests run last, so its start overlaps the rest.
_EARLY: dict[str, Launch] = {}


def _uses_hapi(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return "hapi_server" in getattr(item, "fixturenames", ()) or (
        callspec is not None and callspec.params.get("fhir_server") == "hapi")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """When tests that need HAPI were collected: start HAPI now (if installed) and order the session as the
    other tests, then the integration (and fleet) tests on other servers, then those on HAPI. HAPI's start (JVM,
    Spring, Hibernate) then overlaps tests that wait for no server, not the timeouts of the server tests."""
    on_hapi = [item for item in items if _uses_hapi(item)]
    if not on_hapi:
        return
    integration = [item for item in items if not _uses_hapi(item) and any(
        item.get_closest_marker(marker) for marker in ("integration", "fleet"))]
    chosen = {id(item) for item in on_hapi + integration}
    items[:] = [item for item in items if id(item) not in chosen] + integration + on_hapi
    if HAPI_INSTALLED.exists() and "hapi" not in _EARLY:
        workdir = Path(tempfile.mkdtemp(prefix="hapi-itest-"))
        _EARLY["hapi"] = launch("hapi", "/fhir", workdir, {"NET_CDS_FHIR_SERVERS_DIR": str(INSTALL_DIR)})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for started in _EARLY.values():
        stop(started.process)


@pytest.fixture(scope="session")
def medplum_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirTestServer]:
    """Medplum's engine behind our front; 20 per page by default, as HAPI."""
    installed = INSTALL_DIR / "medplum" / "node_modules" / "@medplum" / "fhir-router"
    server = _serve("medplum", installed, "/fhir/R4", tmp_path_factory.mktemp("medplum"), {"PAGE_SIZE": "20"})
    yield server
    stop(server.process)


@pytest.fixture(scope="session")
def sekmet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirTestServer]:
    """sekmet-fhir with a fresh SQLite database in a temporary directory."""
    workdir = tmp_path_factory.mktemp("sekmet")
    installed = INSTALL_DIR / "sekmet" / "venv" / "bin" / "sekmet"
    server = _serve("sekmet", installed, "/fhir", workdir, {"DATA_DIR": str(workdir)})
    yield server
    stop(server.process)


@pytest.fixture(scope="session")
def hapi_server() -> Iterator[FhirTestServer]:
    """HAPI FHIR's R4 JPA server (H2 in memory), launched at collection time; 20 per page as the public sandbox."""
    if not HAPI_INSTALLED.exists():
        unavailable(f"the hapi FHIR server is not installed ({HAPI_INSTALLED} is missing)")
    started = _EARLY.get("hapi")
    if started is None or started.process.poll() is not None:
        workdir = Path(tempfile.mkdtemp(prefix="hapi-itest-"))
        started = _EARLY["hapi"] = launch("hapi", "/fhir", workdir, {"NET_CDS_FHIR_SERVERS_DIR": str(INSTALL_DIR)})
    server = _running("hapi", started, HAPI_START_TIMEOUT)
    yield server
    stop(server.process)


@pytest.fixture(scope="session", params=SERVER_NAMES)
def fhir_server(request: pytest.FixtureRequest) -> FhirTestServer:
    """Each real server in turn, with every test patient loaded (once per session)."""
    server: FhirTestServer = request.getfixturevalue(f"{request.param}_server")
    if not server.loaded:
        for patient in all_patients():
            try:
                upload_bundle(server.base_url, patient.bundle, patient.id, token=server.token)
            except UploadError as exc:
                server.load_errors[patient.id] = str(exc)
            known = known_defect(server.name, patient.bundle)
            if known:
                server.known_defects[patient.id] = known
        server.loaded = True
    return server


def service_settings(server_url: str, **overrides: object) -> Settings:
    """The service's settings for a call against `server_url`: only it allowlisted, its databases in the
    session's temporary folder, and timeouts a busy machine cannot break (a test of the timeouts sets its own)."""
    values: dict[str, object] = {"allowed_fhir_servers": (server_url,), "fhir_timeout": 20.0,
                                 "fhir_total_timeout": 40.0, "fhir_page_size": 100}
    values.update(overrides)
    return isolated(Settings().with_overrides(**values))
