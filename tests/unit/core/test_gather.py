"""Prefetch and fallback queries (CDS Hooks 2.0 §Prefetch), with the FHIR server mocked at the HTTP layer."""

from __future__ import annotations

import re

import pytest
import requests
import responses

from cds_service.fhir.gather import HookCall, gather_record
from cds_service.fhir.record import PatientRecord
from cds_service.services.registry import load_services
from cds_service.web.errors import PreconditionFailed, ServiceError
from tests.conftest import FHIR_BASE
from tests.unit.core.fhir_builders import (
    PATIENT_ID,
    condition,
    ki67,
    med_request,
    operation_outcome,
    patient,
    searchset,
)

SERVICE = load_services()["net-patient-view"]
EMPTY = searchset()


def full_prefetch(**overrides: object) -> dict:
    """A prefetch answering every key of the patient-view service."""
    prefetch: dict = {q.key: None for q in SERVICE.queries}
    prefetch["patient"] = patient()
    prefetch["conditions"] = searchset(condition("c1", "C25.4"))
    prefetch["pathology"] = searchset(ki67("k1", 12))
    prefetch.update(overrides)
    return prefetch


def call(prefetch: dict, server: str | None = FHIR_BASE, token: str | None = "secret-token") -> HookCall:
    return HookCall(patient_id=PATIENT_ID, prefetch=prefetch, fhir_server=server, access_token=token)


def mock_empty_searches(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=EMPTY)


def test_full_prefetch_makes_no_request(settings):
    with responses.RequestsMock():  # any HTTP call would fail the test
        record = gather_record(SERVICE, call(full_prefetch()), settings)
    assert {r["id"] for r in record.resources} == {PATIENT_ID, "c1", "k1"}
    assert record.key_outcomes["conditions"] == "prefetch"
    assert record.key_outcomes["labs"] == "null"
    assert record.data_source == "prefetch"


def test_null_key_is_not_requeried(settings):
    prefetch = full_prefetch(conditions=None)
    with responses.RequestsMock() as rsps:
        record = gather_record(SERVICE, call(prefetch), settings)
        assert len(rsps.calls) == 0
    assert record.key_outcomes["conditions"] == "null"
    assert not list(record.of_type("Condition"))


def test_missing_keys_are_fetched_with_bearer_token(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    del prefetch["labs"]
    with responses.RequestsMock() as rsps:
        cond = rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Condition\?patient=p1$"),
                        json=searchset(condition("c9", "C7A.012")))
        labs = rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?patient=p1&code=.*9811-1.*"),
                        json=EMPTY)
        record = gather_record(SERVICE, call(prefetch), settings)
        assert cond.call_count == 1 and labs.call_count == 1
        for made in rsps.calls:
            assert made.request.headers["Authorization"] == "Bearer secret-token"
            assert made.request.headers["Prefer"] == "handling=strict"  # an unknown parameter must fail
            assert made.request.headers["Cache-Control"] == "no-cache"  # no search result cached seconds ago
    assert record.key_outcomes["conditions"] == "fetched"
    assert record.get("Condition/c9") is not None
    assert record.data_source == "mixed"


def test_fallback_follows_next_pages(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    page2 = f"{FHIR_BASE}/Condition?patient=p1&_page=2"
    page3 = f"{FHIR_BASE}/Condition?patient=p1&_page=3"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, page2, json=searchset(condition("c2", "C7B.02"), next_url=page3))
        rsps.add(responses.GET, page3, json=searchset(condition("c3", "E34.0")))
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1",
                 json=searchset(condition("c1", "C7A.012"), next_url=page2))
        record = gather_record(SERVICE, call(prefetch), settings)
        assert len(rsps.calls) == 3
    assert {c["id"] for c in record.of_type("Condition")} == {"c1", "c2", "c3"}


def test_paging_bound_fails_the_query_instead_of_truncating(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    capped = settings.with_overrides(fhir_max_pages=2)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for n in range(1, 5):
            url = f"{FHIR_BASE}/Condition?patient=p1" + (f"&_page={n}" if n > 1 else "")
            rsps.add(responses.GET, url, json=searchset(condition(f"c{n}", "C25.4"),
                                                        next_url=f"{FHIR_BASE}/Condition?patient=p1&_page={n + 1}"))
        with pytest.raises(PreconditionFailed) as failure:
            gather_record(SERVICE, call(prefetch), capped)
    assert "more than 2 pages" in failure.value.message


def test_next_link_to_another_host_is_not_followed(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1",
                 json=searchset(condition("c1", "C25.4"), next_url="http://169.254.169.254/latest/meta-data"))
        with pytest.raises(PreconditionFailed) as failure:
            gather_record(SERVICE, call(prefetch), settings)
        assert len(rsps.calls) == 1
    assert "leaves the FHIR server" in failure.value.message


def test_operation_outcome_key_is_requeried(settings):
    prefetch = full_prefetch(conditions=operation_outcome())
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1", json=searchset(condition("c5", "C25.4")))
        record = gather_record(SERVICE, call(prefetch), settings)
    assert record.key_outcomes["conditions"] == "fetched"
    assert record.get("Condition/c5") is not None


def test_operation_outcome_key_without_server_is_412(settings):
    prefetch = full_prefetch(conditions=operation_outcome())
    with pytest.raises(PreconditionFailed) as failure:
        gather_record(SERVICE, call(prefetch, server=None), settings)
    assert failure.value.status == 412
    assert "conditions" in failure.value.message


def test_missing_required_key_and_no_server_is_412(settings):
    prefetch = full_prefetch()
    del prefetch["pathology"]
    with pytest.raises(PreconditionFailed) as failure:
        gather_record(SERVICE, call(prefetch, server=None), settings)
    assert failure.value.expression == "prefetch.pathology"


def test_missing_optional_key_and_no_server_becomes_a_note(settings):
    prefetch = full_prefetch()
    del prefetch["familyHistory"]
    record = gather_record(SERVICE, call(prefetch, server=None), settings)
    assert record.key_outcomes["familyHistory"] == "failed"
    assert any("familyHistory" in n.message for n in record.notes)


def test_server_unreachable_is_412(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1", body=requests.ConnectionError("refused"))
        with pytest.raises(PreconditionFailed) as failure:
            gather_record(SERVICE, call(prefetch), settings)
    assert "could not be reached" in failure.value.message


def test_server_error_on_optional_query_becomes_a_note(settings):
    prefetch = full_prefetch()
    del prefetch["procedures"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Procedure?patient=p1", status=500, json=operation_outcome())
        record = gather_record(SERVICE, call(prefetch), settings)
    assert record.key_outcomes["procedures"] == "failed"
    assert any("procedures" in n.message and "HTTP 500" in n.message for n in record.notes)


def test_prefetch_key_of_wrong_type_is_400_naming_it(settings):
    with pytest.raises(ServiceError) as failure:
        gather_record(SERVICE, call(full_prefetch(labs=["not", "a", "bundle"])), settings)
    assert failure.value.status == 400
    assert failure.value.expression == "prefetch.labs"


def test_resources_of_another_patient_are_dropped_with_a_note(settings):
    stranger = condition("c7", "C7A.1", pid="someone-else")
    record = gather_record(SERVICE, call(full_prefetch(conditions=searchset(stranger))), settings)
    assert record.get("Condition/c7") is None
    assert any("another patient" in n.message for n in record.notes)


def test_medication_reference_resolved_contained_bundle_and_fetched(settings):
    contained = med_request("m1", med_ref="#med")
    contained["contained"] = [{"resourceType": "Medication", "id": "med", "code": {"text": "omeprazole"}}]
    in_bundle = med_request("m2", med_ref="Medication/lan")
    fetched = med_request("m3", med_ref="Medication/octreotide-lar")
    lanreotide = {"resourceType": "Medication", "id": "lan", "code": {"text": "lanreotide 120 mg"}}
    bundle = searchset(contained, in_bundle, fetched, lanreotide)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Medication/octreotide-lar",
                 json={"resourceType": "Medication", "id": "octreotide-lar", "code": {"text": "octreotide LAR"}})
        record = gather_record(SERVICE, call(full_prefetch(medicationRequests=bundle)), settings)
        assert len(rsps.calls) == 1
    from cds_service.fhir.record import resolve_medication

    assert resolve_medication(record, contained)["code"]["text"] == "omeprazole"
    assert resolve_medication(record, in_bundle)["code"]["text"] == "lanreotide 120 mg"
    assert resolve_medication(record, fetched)["code"]["text"] == "octreotide LAR"


def test_unresolvable_medication_reference_is_a_note_not_a_crash(settings):
    bundle = searchset(med_request("m1", med_ref="Medication/gone"))
    record = gather_record(SERVICE, call(full_prefetch(medicationRequests=bundle), server=None), settings)
    assert any("Medication/gone" in n.message for n in record.notes)


def test_fhir_server_not_on_allowlist_is_412_without_any_request(settings):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    with responses.RequestsMock() as rsps:
        with pytest.raises(PreconditionFailed) as failure:
            gather_record(SERVICE, HookCall(PATIENT_ID, prefetch, "http://169.254.169.254/", "t"), settings)
        assert len(rsps.calls) == 0
    assert failure.value.expression == "fhirServer"


def test_query_budget_is_enforced(settings):
    prefetch = {"patient": patient()}
    tight = settings.with_overrides(fhir_query_budget=1)  # two required searches cannot both run
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_empty_searches(rsps)
        with pytest.raises(PreconditionFailed) as failure:
            gather_record(SERVICE, call(prefetch), tight)
        assert len(rsps.calls) == 1
    assert "budget" in failure.value.message


def test_paginated_prefetch_is_completed_from_the_server(settings):
    page2 = f"{FHIR_BASE}/Condition?patient=p1&_page=2"
    prefetch = full_prefetch(conditions=searchset(condition("c1", "C25.4"), next_url=page2))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1", json=searchset(
            condition("c1", "C25.4"), next_url=page2))
        rsps.add(responses.GET, page2, json=searchset(condition("c2", "C7B.02")))
        record = gather_record(SERVICE, call(prefetch), settings)
    assert {c["id"] for c in record.of_type("Condition")} == {"c1", "c2"}


def test_lone_entry_object_is_read_and_unreadable_entries_are_noted(settings):
    lone = {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": condition("c1", "C25.4")}}
    broken = {"resourceType": "Bundle", "entry": [{"resource": "Condition/c2"}, 7, {"fullUrl": "x"}]}
    record = gather_record(SERVICE, call(full_prefetch(conditions=lone, procedures=broken), server=None), settings)
    assert record.get("Condition/c1") is not None
    assert sum("procedures" in n.message and "no readable resource" in n.message for n in record.notes) == 3


def _observation_code_params(url: str) -> set[str]:
    from urllib.parse import parse_qs, urlsplit

    params = parse_qs(urlsplit(url).query)
    assert set(params) <= {"patient", "code", "_count"}, params
    return set(params["code"][0].split(","))


def _codes(key: str) -> set[str]:
    from urllib.parse import parse_qs, urlsplit

    template = next(q.template for q in SERVICE.queries if q.key == key)
    return set(parse_qs(urlsplit(template).query)["code"][0].split(","))


def test_missing_optional_code_searches_go_as_one_request_with_the_union_of_codes(settings):
    prefetch = full_prefetch()
    for key in ("pathology", "labs", "status"):
        del prefetch[key]
    with responses.RequestsMock() as rsps:
        obs = rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?patient=p1&code=.*"),
                       json=searchset(ki67("k7", 3)))
        record = gather_record(SERVICE, call(prefetch), settings)
        assert obs.call_count == 2  # pathology is required: never merged with optional keys
        sent = sorted((_observation_code_params(c.request.url) for c in rsps.calls), key=len)
    assert sent == [_codes("pathology"), _codes("labs") | _codes("status")]
    assert {record.key_outcomes[k] for k in ("pathology", "labs", "status")} == {"fetched"}
    assert record.get("Observation/k7") is not None
    assert set(record.fetch_ms) == {"pathology", "labs+status"} and min(record.fetch_ms.values()) >= 0


def test_a_single_missing_code_search_is_sent_as_its_own_template(settings):
    prefetch = full_prefetch()
    del prefetch["status"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"), json=EMPTY)
        gather_record(SERVICE, call(prefetch), settings)
        assert _observation_code_params(rsps.calls[0].request.url) == _codes("status")


def _gather_with_a_500(settings, missing: tuple[str, ...], resource_type: str) -> tuple[PatientRecord, int]:
    """Gather with `missing` keys left out of the prefetch and every `resource_type` search failing (HTTP 500);
    returns the record and how many requests were made."""
    prefetch = full_prefetch()
    for key in missing:
        del prefetch[key]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + rf"/{resource_type}\?.*"), status=500,
                 json=operation_outcome())
        record = gather_record(SERVICE, call(prefetch), settings)
        return record, len(rsps.calls)


def test_failed_merged_request_fails_every_key_it_carried(settings):
    record, requests_made = _gather_with_a_500(settings, ("labs", "status"), "Observation")
    assert requests_made == 1
    assert record.key_outcomes["labs"] == record.key_outcomes["status"] == "failed"
    assert {k for k in ("labs", "status") if any(f"'{k}'" in n.message for n in record.notes)} == {"labs", "status"}


def test_a_required_key_does_not_fail_with_the_optional_request_beside_it(settings):
    prefetch = full_prefetch()
    for key in ("pathology", "labs", "status"):
        del prefetch[key]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?patient=p1&code=[^&]*29593-1.*"),
                 json=searchset(ki67("k7", 3)))
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"), status=500,
                 json=operation_outcome())
        record = gather_record(SERVICE, call(prefetch), settings)
    assert [record.key_outcomes[k] for k in ("pathology", "labs", "status")] == ["fetched", "failed", "failed"]


def test_merged_request_may_read_the_pages_of_each_key_it_carries(settings):
    prefetch = full_prefetch()
    del prefetch["labs"]
    del prefetch["status"]
    capped = settings.with_overrides(fhir_max_pages=1)  # two keys merged: two pages allowed
    page2 = f"{FHIR_BASE}/Observation?patient=p1&_page=2"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, page2, json=searchset(ki67("k2", 4)))
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?patient=p1&code=.*"),
                 json=searchset(ki67("k1", 3), next_url=page2))
        record = gather_record(SERVICE, call(prefetch), capped)
    assert record.get("Observation/k2") is not None


@pytest.mark.parametrize("service", list(load_services().values()), ids=lambda s: s.id)
def test_fallback_plan_covers_every_key_once_and_merges_only_code_only_searches(service):
    from cds_service.services.registry import fallback_queries

    plan = fallback_queries(service.queries)
    assert sorted(k for q in plan for k in q.keys) == sorted(q.key for q in service.queries)
    by_key = {q.key: q for q in service.queries}
    for request in plan:
        if len(request.keys) > 1:
            assert all(by_key[k].codes and not by_key[k].is_read for k in request.keys)
            assert len({(by_key[k].resource_type, by_key[k].required) for k in request.keys}) == 1
        else:
            assert request.template == by_key[request.keys[0]].template
    assert any("imaging" in q.keys and len(q.keys) == 1 for q in plan)  # category search: never merged


def _clean_proxy_env(monkeypatch) -> None:
    import os

    for key in list(os.environ):
        if key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)


def test_session_reads_the_environment_once_when_no_proxy_is_set(monkeypatch):
    from cds_service.fhir.transport import FhirSession

    _clean_proxy_env(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/internal-ca.pem")
    session = FhirSession("https://ehr.example.org/fhir", timeout=1.0, pool_size=4)
    assert session.trust_env is False and session.verify == "/etc/internal-ca.pem"


def test_session_leaves_proxies_to_requests_when_one_is_configured(monkeypatch):
    from cds_service.fhir.transport import FhirSession

    _clean_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    session = FhirSession("https://ehr.example.org/fhir", timeout=1.0, pool_size=4)
    assert session.trust_env is True


def test_all_fallback_requests_of_a_call_are_in_flight_at_once(settings, monkeypatch):
    """With the default pool, every request of a patient-view call is sent before any answers, so the call
    takes as long as its slowest request (not two rounds of them)."""
    import threading

    from cds_service.fhir import gather
    from cds_service.services.registry import fallback_queries

    monkeypatch.setattr(gather, "_executor", None)  # a pool sized by these (default) settings
    expected = len(fallback_queries(SERVICE.queries))
    barrier = threading.Barrier(expected, timeout=30)  # a deadline for a broken pool, not a speed limit

    def answer(request):
        barrier.wait()  # raises BrokenBarrierError unless all `expected` requests are waiting together
        body = patient() if "/Patient/" in request.url else EMPTY
        return 200, {"Content-Type": "application/fhir+json"}, __import__("json").dumps(body)

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), callback=answer)
        record = gather_record(SERVICE, call({}), settings)
        assert len(rsps.calls) == expected == settings.fhir_workers
    assert set(record.key_outcomes.values()) <= {"fetched", "failed"} and record.key_outcomes["patient"] == "fetched"
    assert not barrier.broken


def _with_included(bundle_entries: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r, "search": {"mode": "include" if r["resourceType"] == "Medication" else "match"}}
                      for r in bundle_entries]}


def test_medication_searches_include_the_referenced_medications_so_no_second_round(settings):
    from cds_service.fhir.record import resolve_medication

    prefetch = full_prefetch()
    del prefetch["medicationRequests"]
    order = med_request("m1", med_ref="Medication/lar")
    lar = {"resourceType": "Medication", "id": "lar", "code": {"text": "octreotide LAR 30 mg"}}
    with responses.RequestsMock() as rsps:
        search = rsps.add(responses.GET, re.compile(
            re.escape(FHIR_BASE) + r"/MedicationRequest\?patient=p1&_include=MedicationRequest:medication$"),
            json=_with_included([order, lar]))
        record = gather_record(SERVICE, call(prefetch), settings)
        assert search.call_count == 1 and len(rsps.calls) == 1  # no Medication/lar read
    assert resolve_medication(record, record.get("MedicationRequest/m1"))["code"]["text"] == "octreotide LAR 30 mg"
    assert record.medication_reads is None


def test_a_server_that_refuses_include_is_asked_again_without_it(settings):
    from cds_service.fhir.record import resolve_medication

    prefetch = full_prefetch()
    del prefetch["medicationRequests"]
    order = med_request("m1", med_ref="Medication/lar")
    with responses.RequestsMock() as rsps:
        refused = rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/MedicationRequest\?.*_include=.*"),
                           status=400, json=operation_outcome("Unknown _include"))
        plain = rsps.add(responses.GET, f"{FHIR_BASE}/MedicationRequest?patient=p1", json=searchset(order))
        rsps.add(responses.GET, f"{FHIR_BASE}/Medication/lar",
                 json={"resourceType": "Medication", "id": "lar", "code": {"text": "lanreotide 120 mg"}})
        record = gather_record(SERVICE, call(prefetch), settings)
        assert refused.call_count == 1 and plain.call_count == 1 and len(rsps.calls) == 3
    assert record.key_outcomes["medicationRequests"] == "fetched"
    assert resolve_medication(record, record.get("MedicationRequest/m1"))["code"]["text"] == "lanreotide 120 mg"
    assert record.medication_reads is not None and record.medication_reads[0] == 1


def test_other_failures_of_an_include_search_are_not_retried(settings):
    record, requests_made = _gather_with_a_500(settings, ("medicationRequests",), "MedicationRequest")
    assert requests_made == 1
    assert record.key_outcomes["medicationRequests"] == "failed"


def test_a_lenient_server_that_says_it_ignored_include_is_asked_again_without_it(settings):
    prefetch = full_prefetch()
    del prefetch["medicationRequests"]
    ignored = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "not-supported", "diagnostics": "_include is not supported"}]},
         "search": {"mode": "outcome"}}]}
    with responses.RequestsMock() as rsps:
        first = rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/MedicationRequest\?.*_include=.*"),
                         json=ignored)
        plain = rsps.add(responses.GET, f"{FHIR_BASE}/MedicationRequest?patient=p1",
                         json=searchset(med_request("m1", text="everolimus 10 mg")))
        record = gather_record(SERVICE, call(prefetch), settings)
        assert first.call_count == 1 and plain.call_count == 1
    assert record.key_outcomes["medicationRequests"] == "fetched" and record.get("MedicationRequest/m1") is not None
