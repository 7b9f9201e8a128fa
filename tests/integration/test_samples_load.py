"""`net-cds samples load`: sample patients into a real FHIR server as transactions with stable ids."""

from __future__ import annotations

import pytest

from cds_service.cli import main
from cds_service.fhir.upload import dangling_references, to_transaction
from cds_service.samples import list_samples
from tests.integration.conftest import KNOWN_SAMPLE_DEFECTS, FhirTestServer, free_port

SAMPLES = list_samples()


def _counts(server: FhirTestServer, patient_id: str) -> dict[str, int]:
    """How many resources of each type the server holds for the patient (every page read)."""
    counts = {}
    for rtype in ("Patient", "Condition", "Observation", "MedicationStatement", "MedicationAdministration"):
        query = f"{rtype}?_id={patient_id}" if rtype == "Patient" else f"{rtype}?patient={patient_id}&_count=50"
        bundle, total = server.get(query), 0
        while True:
            total += len(bundle.get("entry") or [])
            following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
            if not following:
                break
            bundle = server.get(following[0])
        counts[rtype] = total
    return counts


def test_every_sample_converts_to_a_self_contained_put_transaction():
    assert SAMPLES, "no sample patients in samples/"
    for sample in SAMPLES:
        bundle = sample.bundle()
        transaction = to_transaction(bundle, "https://hapi.fhir.org/baseR4")
        assert transaction["type"] == "transaction"
        requests = [e["request"] for e in transaction["entry"]]
        assert all(r["method"] == "PUT" for r in requests)
        assert [r["url"] for r in requests] == [f"{e['resource']['resourceType']}/{e['resource']['id']}"
                                                for e in bundle["entry"]]
        # HAPI enforces referential integrity on write: a reference outside the bundle would be refused.
        assert dangling_references(bundle) == [], sample.id


@pytest.mark.integration
def test_load_twice_is_idempotent(fhir_server: FhirTestServer, capsys: pytest.CaptureFixture[str]):
    chosen = [s.id for s in SAMPLES if (fhir_server.name, s.id) not in KNOWN_SAMPLE_DEFECTS][:3]
    argv = ["samples", "load", "--fhir-server", fhir_server.base_url, "--token", fhir_server.token, "--only", *chosen]
    assert main(argv) == 0
    first = capsys.readouterr()
    before = {pid: _counts(fhir_server, pid) for pid in chosen}
    assert main(argv) == 0
    second = capsys.readouterr()
    after = {pid: _counts(fhir_server, pid) for pid in chosen}
    assert after == before
    for pid in chosen:
        expected = sum(1 for e in next(s for s in SAMPLES if s.id == pid).bundle()["entry"])
        assert sum(after[pid].values()) <= expected and after[pid]["Patient"] == 1
        assert f"loaded {pid}: " in second.out
    assert "0 created" in second.out  # the second load only updates
    assert f"3 of 3 sample patients loaded into {fhir_server.base_url}" in second.out
    for output in (first, second):
        assert fhir_server.token not in output.out + output.err


@pytest.mark.integration
def test_load_with_a_wrong_token_fails_clearly(fhir_server: FhirTestServer, capsys: pytest.CaptureFixture[str]):
    argv = ["samples", "load", "--fhir-server", fhir_server.base_url, "--token", "wrong-secret-token",
            "--only", SAMPLES[0].id]
    assert main(argv) == 1
    output = capsys.readouterr()
    assert "HTTP 401" in output.err and "--token" in output.err
    assert "wrong-secret-token" not in output.out + output.err


def test_load_to_a_server_that_is_down_fails_clearly(capsys: pytest.CaptureFixture[str]):
    url = f"http://127.0.0.1:{free_port()}/fhir"
    assert main(["samples", "load", "--fhir-server", url, "--only", SAMPLES[0].id, "--timeout", "3"]) == 1
    assert "could not be reached" in capsys.readouterr().err


def test_load_unknown_sample_or_bad_url(capsys: pytest.CaptureFixture[str]):
    assert main(["samples", "load", "--fhir-server", "http://127.0.0.1:9/fhir", "--only", "no-such-sample"]) == 2
    assert "no-such-sample" in capsys.readouterr().err
    assert main(["samples", "load", "--fhir-server", "ftp://example.org/fhir"]) == 2
    assert "http(s)" in capsys.readouterr().err
