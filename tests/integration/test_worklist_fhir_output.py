"""The worklist's FHIR output on real FHIR servers: uploading twice leaves the same Lists and Tasks (their
ids are stable), and a re-run after a patient left a queue updates that queue's List."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from cds_service.fhir.upload import UploadError
from cds_service.worklist.fhir_output import IDENTIFIER_SYSTEM, QueueMembers, upload, worklist_resources
from cds_service.worklist.queues import load_queues
from tests.integration.conftest import FhirTestServer
from tests.worklist.sample_rows import sample_rows

WHEN = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _search(server: FhirTestServer, url: str) -> dict:
    """A fresh search: `Cache-Control: no-cache`, since HAPI answers a repeated search from its cache."""
    response = requests.get(url if url.startswith("http") else f"{server.base_url}/{url}", timeout=60,
                            headers={"Authorization": f"Bearer {server.token}", "Accept": "application/fhir+json",
                                     "Cache-Control": "no-cache"})
    response.raise_for_status()
    return response.json()


def _ours(server: FhirTestServer, rtype: str) -> dict[str, dict]:
    """Every resource of `rtype` on the server that the worklist wrote (our identifier), every page read."""
    found: dict[str, dict] = {}
    bundle = _search(server, f"{rtype}?_count=100")
    while True:
        for entry in bundle.get("entry") or ():
            resource = entry.get("resource") or {}
            if any(i.get("system") == IDENTIFIER_SYSTEM for i in resource.get("identifier") or ()):
                found[resource["id"]] = resource
        following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        if not following:
            return found
        bundle = _search(server, following[0])


def _tally(server: FhirTestServer) -> QueueMembers:
    """The sample rows of the patients this server holds, sorted into queues."""
    tally = QueueMembers()
    for row in sample_rows():
        if row.patient_id not in server.load_errors:
            tally.add(row)
    return tally


@pytest.mark.integration
@pytest.mark.parametrize("mode,rtype", [("list", "List"), ("task", "Task")])
def test_uploading_twice_leaves_the_same_resources(fhir_server: FhirTestServer, mode: str, rtype: str):
    tally, scope = _tally(fhir_server), f"test-twice-{mode}"
    resources = worklist_resources(load_queues(), tally.members, mode, scope=scope, when=WHEN)  # type: ignore[arg-type]
    assert len(resources) >= len(load_queues())  # every queue (list) or every patient in a queue (task)
    before = set(_ours(fhir_server, rtype))
    first = upload(fhir_server.base_url, resources, token=fhir_server.token, batch=4)
    assert sum(r.created + r.updated for r in first) == len(resources)
    after_first = _ours(fhir_server, rtype)
    again = worklist_resources(load_queues(), tally.members, mode, scope=scope, when=WHEN.replace(day=29))  # type: ignore[arg-type]
    second = upload(fhir_server.base_url, again, token=fhir_server.token, batch=4)
    assert sum(r.created for r in second) == 0 and sum(r.updated for r in second) == len(resources)
    after_second = _ours(fhir_server, rtype)
    ours = {r["id"] for r in resources}
    assert set(after_first) - before == ours - before
    assert set(after_second) == set(after_first)  # the same number of Lists/Tasks: updated, not added
    if mode == "task":
        for r in resources:
            got = after_second[r["id"]]
            assert got["status"] == "requested" and got["for"] == r["for"] and got["code"] == r["code"]


@pytest.mark.integration
def test_a_rerun_updates_a_list_a_patient_left(fhir_server: FhirTestServer):
    tally, scope = _tally(fhir_server), "test-rerun"
    upload(fhir_server.base_url, worklist_resources(load_queues(), tally.members, "list", scope=scope, when=WHEN),
           token=fhir_server.token)
    queue_id = next(q for q, members in tally.members.items() if members)
    fewer = {**tally.members, queue_id: tally.members[queue_id][1:]}
    lists = worklist_resources(load_queues(), fewer, "list", scope=scope, when=WHEN)
    upload(fhir_server.base_url, lists, token=fhir_server.token)
    target = next(r for r in lists if r["code"]["coding"][0]["code"] == queue_id)
    on_server = fhir_server.get(f"List/{target['id']}")
    assert [e["item"]["reference"] for e in on_server.get("entry") or ()] == \
        [f"Patient/{pid}" for pid, _ in fewer[queue_id]]


@pytest.mark.integration
def test_a_wrong_token_is_refused_without_printing_it(fhir_server: FhirTestServer):
    tally, scope = _tally(fhir_server), "test-token"
    resources = worklist_resources(load_queues(), tally.members, "list", scope=scope, when=WHEN)
    with pytest.raises(UploadError) as caught:
        upload(fhir_server.base_url, resources, token="wrong-secret-token")
    assert "HTTP 401" in str(caught.value) and "wrong-secret-token" not in str(caught.value)
