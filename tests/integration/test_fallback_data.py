"""The fallback data path against real FHIR servers: what the service fetches itself equals full prefetch."""

from __future__ import annotations

import secrets

import pytest

from cds_service.fhir import fallback
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.fhir.record import PatientRecord
from cds_service.fhir.upload import upload_bundle
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import prefetch_from_bundle
from cds_service.web.errors import PreconditionFailed
from tests.integration.conftest import (
    SERVER_LIMITS,
    FhirTestServer,
    LoadedPatient,
    all_patients,
    service_settings,
)

pytestmark = pytest.mark.integration

SERVICE = load_services()["net-patient-view"]
PATIENTS = all_patients()
OWN = next(p for p in PATIENTS if p.id == "itest-net-1")


def _comparable(resource: dict) -> dict:
    """A resource without what the server adds (meta: versionId, lastUpdated, source)."""
    return {k: v for k, v in resource.items() if k != "meta"}


def _by_ref(record: PatientRecord) -> dict[str, dict]:
    return {f"{r['resourceType']}/{r['id']}": _comparable(r) for r in record.resources}


def reachable(server: FhirTestServer, by_ref: dict[str, dict]) -> dict[str, dict]:
    """`by_ref` less the resource types of queries this server cannot answer (SERVER_LIMITS)."""
    limited = {q.resource_type for q in SERVICE.queries if (server.name, q.key) in SERVER_LIMITS}
    return {ref: r for ref, r in by_ref.items() if ref.split("/")[0] not in limited}


def fetched_record(server: FhirTestServer, patient_id: str, **overrides: object) -> PatientRecord:
    """gather_record with no prefetch at all: every key is a fallback query on the real server."""
    call = HookCall(patient_id=patient_id, prefetch={}, fhir_server=server.base_url, access_token=server.token)
    return gather_record(SERVICE, call, service_settings(server.base_url, **overrides))


def prefetched_record(patient: LoadedPatient) -> PatientRecord:
    call = HookCall(patient_id=patient.id, prefetch=prefetch_from_bundle(SERVICE, patient.bundle, patient.id),
                    fhir_server=None, access_token=None)
    return gather_record(SERVICE, call, service_settings("http://127.0.0.1:1/unused"))


@pytest.mark.parametrize("patient", PATIENTS, ids=[p.id for p in PATIENTS])
def test_fallback_finds_exactly_what_full_prefetch_gives(fhir_server: FhirTestServer, patient: LoadedPatient):
    fhir_server.require_loaded(patient.id)
    fetched = fetched_record(fhir_server, patient.id)
    expected = prefetched_record(patient)
    got, want = _by_ref(fetched), _by_ref(expected)
    notes = [n.message for n in fetched.notes]
    for query in SERVICE.queries:
        limit = SERVER_LIMITS.get((fhir_server.name, query.key))
        if limit is None:
            assert fetched.key_outcomes[query.key] == "fetched", (query.key, notes)
            continue
        # A query this server cannot answer: a clear note, and none of that query's resources from anyone.
        assert fetched.key_outcomes[query.key] == "failed"
        assert any(f"'{query.key}'" in n and limit in n for n in notes), notes
        notes = [n for n in notes if f"'{query.key}'" not in n]
        assert not [ref for ref in got if ref.startswith(f"{query.resource_type}/")]
        want = {ref: r for ref, r in want.items() if not ref.startswith(f"{query.resource_type}/")}
    assert notes == [n.message for n in expected.notes]
    assert sorted(got) == sorted(want)
    for ref, resource in want.items():
        assert got[ref] == resource, f"{ref} differs after a round trip through {fhir_server.name}"


def test_other_patients_data_never_leaks(fhir_server: FhirTestServer):
    record = fetched_record(fhir_server, OWN.id)
    others = {p.id for p in PATIENTS} - {OWN.id}
    for resource in record.resources:
        subject = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        assert subject.split("/")[-1] not in others


def test_page_size_5_still_sees_every_resource(fhir_server: FhirTestServer, monkeypatch: pytest.MonkeyPatch):
    # The server really pages: 24 chromogranin A results come back 5 at a time with a `next` link.
    first = fhir_server.get("Observation", patient=OWN.id, code="http://loinc.org|9811-1", _count="5")
    assert len(first["entry"]) == 5
    assert any(link["relation"] == "next" for link in first.get("link", []))

    urls: list[str] = []
    original = fallback.FhirFetcher._get_json

    def recording(self: fallback.FhirFetcher, path_or_url: str, what: str, **kwargs: bool) -> dict:
        urls.append(path_or_url)
        return original(self, path_or_url, what, **kwargs)

    monkeypatch.setattr(fallback.FhirFetcher, "_get_json", recording)
    record = fetched_record(fhir_server, OWN.id, fhir_page_size=5)
    assert _by_ref(record) == reachable(fhir_server, _by_ref(prefetched_record(OWN)))
    cga = [r for r in record.of_type("Observation") if r["id"].startswith(f"{OWN.id}-cga-")]
    assert len(cga) == 24
    followed = [u for u in urls if u.startswith("http")]  # `next` links are absolute
    assert len(followed) >= 4, urls  # labs: 25 results = 5 pages, so at least 4 next links followed
    assert all(u.startswith(fhir_server.base_url) for u in followed)


def test_server_default_page_size_is_followed_too(fhir_server: FhirTestServer):
    # NET_CDS_FHIR_PAGE_SIZE=0: no _count is sent, so the server's own page size (20, as HAPI's) applies.
    first = fhir_server.get("Observation", patient=OWN.id, code="http://loinc.org|9811-1")
    assert len(first["entry"]) == 20
    assert any(link["relation"] == "next" for link in first.get("link", []))
    record = fetched_record(fhir_server, OWN.id, fhir_page_size=0)
    assert _by_ref(record) == reachable(fhir_server, _by_ref(prefetched_record(OWN)))


def test_paging_is_bounded_and_the_gap_is_a_note(fhir_server: FhirTestServer):
    record = fetched_record(fhir_server, OWN.id, fhir_page_size=5, fhir_max_pages=2)
    assert record.key_outcomes["labs"] == "failed"
    # labs and status go as one request, allowed 2 pages each (cds_service/services/registry.py fallback_queries)
    assert record.key_outcomes["status"] == "failed"
    assert any("'labs'" in n.message and "more than 4 pages" in n.message for n in record.notes), record.notes
    assert record.key_outcomes["pathology"] == "fetched"
    assert record.get(f"Observation/{OWN.id}-ki67") is not None


def test_bearer_token_is_forwarded_and_required(fhir_server: FhirTestServer):
    for token in (None, "not-the-token"):
        call = HookCall(patient_id=OWN.id, prefetch={}, fhir_server=fhir_server.base_url, access_token=token)
        with pytest.raises(PreconditionFailed) as raised:
            gather_record(SERVICE, call, service_settings(fhir_server.base_url))
        assert "HTTP 401" in raised.value.message
        assert "not-the-token" not in raised.value.message


def test_medication_references_are_resolved_from_the_server(fhir_server: FhirTestServer):
    record = fetched_record(fhir_server, OWN.id)
    medication = record.get(f"Medication/{OWN.id}-octreotide-lar")
    assert medication is not None and medication["code"]["text"] == "Octreotide LAR 30 mg"
    assert record.medication_reads is None  # both servers honour _include: no second round of reads


def test_a_result_filed_after_a_call_is_seen_by_the_next_call(fhir_server: FhirTestServer):
    # A Ki-67 filed between two chart openings must be on the second one's cards. HAPI answers a search repeated
    # within 60 s from its search cache (the public sandbox's default) unless asked not to (Cache-Control).
    patient_id = f"itest-fresh-{secrets.token_hex(4)}"
    patient = {"resourceType": "Patient", "id": patient_id, "gender": "male", "birthDate": "1970-01-01"}
    ki67 = {**next(e["resource"] for e in OWN.bundle["entry"] if e["resource"]["id"] == f"{OWN.id}-ki67"),
            "id": f"{patient_id}-ki67", "subject": {"reference": f"Patient/{patient_id}"}}

    def put(*resources: dict) -> None:
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
        upload_bundle(fhir_server.base_url, bundle, patient_id, token=fhir_server.token)

    put(patient)
    before = fetched_record(fhir_server, patient_id)
    assert before.key_outcomes["pathology"] == "fetched" and not list(before.of_type("Observation"))
    put(patient, ki67)
    after = fetched_record(fhir_server, patient_id)
    assert after.get(f"Observation/{patient_id}-ki67") is not None, f"{fhir_server.name} answered from a stale search"
