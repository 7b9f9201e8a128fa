"""`net-cds samples load`: sample patients into a real FHIR server as transactions with stable ids."""

from __future__ import annotations

import pytest
import responses

from cds_service.cli import main
from cds_service.fhir.upload import UploadError, dangling_references, to_transaction, upload_bundle
from cds_service.samples import list_samples
from tests.integration.conftest import FhirTestServer, known_defect
from tests.integration.processes import free_port

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
    chosen = [s.id for s in SAMPLES if known_defect(fhir_server.name, s.bundle()) is None][:3]
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


def test_transaction_rewrites_urn_uuid_references_and_drops_server_meta():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:5f1c2b7e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Patient", "meta": {"versionId": "7", "profile": ["http://x/p"]}}},
        {"fullUrl": "urn:uuid:5f1c2b7e-0000-4000-8000-000000000002",
         "resource": {"resourceType": "Observation", "id": "obs-1", "status": "final", "code": {"text": "x"},
                      "subject": {"reference": "urn:uuid:5f1c2b7e-0000-4000-8000-000000000001"}}},
    ]}
    transaction = to_transaction(bundle, "http://127.0.0.1:9/fhir/")
    patient, observation = (e["resource"] for e in transaction["entry"])
    assert patient["id"] == "5f1c2b7e-0000-4000-8000-000000000001"
    assert patient["meta"] == {"profile": ["http://x/p"]}
    assert observation["subject"]["reference"] == "Patient/5f1c2b7e-0000-4000-8000-000000000001"
    assert transaction["entry"][1]["fullUrl"] == "http://127.0.0.1:9/fhir/Observation/obs-1"
    assert bundle["entry"][1]["resource"]["subject"]["reference"].startswith("urn:uuid:")  # input untouched


@pytest.mark.parametrize("entries, message", [
    ([{"resource": {"resourceType": "Patient"}}], "stable id"),
    ([{"resource": {"resourceType": "Patient", "id": "a"}}, {"resource": {"resourceType": "Patient", "id": "a"}}],
     "twice"),
    ([], "no resources"),
])
def test_transaction_refuses_what_would_not_be_idempotent(entries, message):
    with pytest.raises(UploadError, match=message):
        to_transaction({"resourceType": "Bundle", "type": "collection", "entry": entries})


def test_transaction_response_in_hapi_style_is_understood():
    # HAPI answers "201 Created" / "200 OK" with a location; one refused entry fails the whole load.
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p"}},
        {"resource": {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"}}}]}
    base = "https://hapi.fhir.org/baseR4"
    answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created", "location": "Patient/p/_history/1"}},
        {"response": {"status": "200 OK", "location": "Condition/c/_history/3"}}]}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, base, json=answer)
        result = upload_bundle(base, bundle, "p", token="secret")
        sent = rsps.calls[0].request
        assert sent.headers["Authorization"] == "Bearer secret"
        assert sent.headers["Content-Type"] == "application/fhir+json"
    assert (result.created, result.updated) == (1, 1)
    answer["entry"][1]["response"]["status"] = "400 Bad Request"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, base, json=answer)
        with pytest.raises(UploadError, match="Condition/c answered 400"):
            upload_bundle(base, bundle, "p")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, base, status=422, json={"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "processing", "diagnostics": "Resource Patient/x not found"}]})
        with pytest.raises(UploadError, match="HTTP 422: Resource Patient/x not found"):
            upload_bundle(base, bundle, "p")
