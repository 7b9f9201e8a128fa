"""Property-based: no request body, header or path produces a 500 (or a 401 with a body)."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import uuid
from pathlib import Path

import pytest
import responses
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cds_service import create_app
from cds_service.config import Settings
from cds_service.fhir.outbound import is_under
from cds_service.web.errors import UNAUTHORIZED_BODY
from tests.conftest import FHIR_BASE
from tests.security.conftest import ISS, PUBLIC, Key, jwks, mint
from tests.security.hook_bodies import full_prefetch, hook_body
from tests.security.hostile_fhir import DEPTHS, hostile_bundles, hostile_resources, server_answers, to_json

# NET_CDS_FUZZ_EXAMPLES=2000 for a deeper run; the default keeps the suite fast.
FUZZ = settings(max_examples=int(os.environ.get("NET_CDS_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SERVICES = ["net-patient-view", "net-order-sign"]
KNOWN_PATHS = ["/cds-services", "/healthz", "/cds-services/unknown", "/cds-services/unknown/feedback",
               *(f"/cds-services/{s}" for s in SERVICES), *(f"/cds-services/{s}/feedback" for s in SERVICES)]
FHIR_TYPES = ["Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest", "Medication",
              "Procedure", "DiagnosticReport", "OperationOutcome", "Bundle"]
FHIR_KEYS = ["id", "subject", "patient", "code", "category", "valueQuantity", "valueCodeableConcept", "valueString",
             "effectiveDateTime", "effectivePeriod", "onsetDateTime", "recordedDate", "clinicalStatus",
             "verificationStatus", "status", "medicationCodeableConcept", "medicationReference", "component",
             "interpretation", "bodySite", "stage", "birthDate", "gender", "entry", "authoredOn", "dosage",
             "note", "meta", "extension", "contained", "valueInteger", "valueBoolean", "issued"]

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=16)
codings = st.fixed_dictionaries({}, optional={"system": text | json_values, "code": text | json_values,
                                              "display": text})
fhirish = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(FHIR_TYPES)},
    optional={key: json_values | st.fixed_dictionaries({"coding": st.lists(codings, max_size=3)})
              | st.fixed_dictionaries({"value": scalars, "unit": text, "comparator": text})
              | st.builds(dict, reference=st.just("Patient/p1")) for key in FHIR_KEYS})
bundles = st.builds(lambda rs: {"resourceType": "Bundle", "type": "searchset",
                                "entry": [{"resource": r} for r in rs]}, st.lists(fhirish, max_size=4))


def _deep_marker(depth: int) -> str:
    return f"@@deep-{depth}@@"


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def near_valid_hook_bodies(draw: st.DrawFn) -> dict:
    """A valid request with a few parts replaced by hostile values (prefetch full of odd FHIR included)."""
    body = hook_body(draw(st.sampled_from(SERVICES)))
    for key in draw(st.lists(st.sampled_from(sorted(body["prefetch"])), max_size=4, unique=True)):
        body["prefetch"][key] = draw(bundles | fhirish | st.none())
    body = copy.deepcopy(body)  # drawn values may be shared objects (st.just): never mutate them
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = copy.deepcopy(draw(json_values | fhirish | st.sampled_from(
                ["http://169.254.169.254/", "../../admin", "", "💥", "2026-02-30", -1, 10**30])))
    return body


@st.composite
def near_valid_feedback(draw: st.DrawFn) -> dict:
    entry = {"card": str(uuid.uuid4()), "outcome": draw(st.sampled_from(["accepted", "overridden"])),
             "outcomeTimestamp": "2026-11-28T10:00:00Z", "acceptedSuggestions": [{"id": "s"}],
             "overrideReason": {"reason": {"system": "s", "code": "c", "display": "d"}, "userComment": "x"}}
    for key in draw(st.lists(st.sampled_from(sorted(entry)), max_size=3, unique=True)):
        if draw(st.booleans()):
            entry.pop(key)
        else:
            entry[key] = copy.deepcopy(draw(json_values))
    return {"feedback": draw(st.lists(st.just(entry), min_size=0, max_size=3))}


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(json.dumps),
    near_valid_hook_bodies().map(json.dumps),
    near_valid_feedback().map(json.dumps),
    st.sampled_from(DEPTHS).map(lambda d: "[" * d + "]" * d),  # deeper than the parsers allow
    st.builds(lambda d, key: to_json({"hook": "patient-view", key: _deep_marker(d)}), st.sampled_from(DEPTHS),
              st.sampled_from(["context", "prefetch", "hookInstance", "feedback"])),
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


jwt_shaped = st.builds(lambda h, p, s: f"Bearer {_b64(json.dumps(h).encode())}.{_b64(json.dumps(p).encode())}"
                                       f".{_b64(s)}",
                       st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "crit"]), json_values, max_size=5),
                       st.dictionaries(st.sampled_from(["iss", "aud", "exp", "iat", "jti", "nbf", "tenant"]),
                                       json_values, max_size=7),
                       st.binary(max_size=64))


def make_apps(folder: Path, key: Key) -> dict:
    """The fuzzed services (also used by bench/fuzz_run.py): open, secured (JWT with `key`), and one that
    queries a FHIR server (answered by `responses` in the tests)."""
    (folder / "jwks.json").write_text(json.dumps(jwks(key)))
    base = Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE,), fhir_timeout=0.5, fhir_total_timeout=1.0,
                                     feedback_db=str(folder / "fb.sqlite3"), fhir_query_budget=0)
    secured = base.with_overrides(auth="required", trusted_issuers=(ISS,), jwks_file=folder / "jwks.json",
                                  public_base_url=PUBLIC, jti_db="memory")
    fetching = base.with_overrides(fhir_query_budget=40, fhir_page_size=0, fhir_max_pages=3)
    return {"open": create_app(base).test_client(), "secured": create_app(secured).test_client(),
            "fetching": create_app(fetching).test_client()}


@pytest.fixture(scope="module")
def apps(tmp_path_factory, keys) -> dict:
    return make_apps(tmp_path_factory.mktemp("fuzz"), keys["es384"])


def _request(client, method: str, path: str, body: bytes | str, headers: dict):
    return client.open(path, method=method, data=body, headers=headers)


open_cases = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]),
    "path": st.sampled_from(KNOWN_PATHS) | st.text("abcdefghijklmnopqrstuvwxyz-_.%~", max_size=20).map(
        lambda s: f"/cds-services/{s}"),
    "body": bodies,
    "content_type": st.sampled_from(["application/json", "application/fhir+json", "text/plain", "",
                                     "application/json; charset=latin-1"]) | header_text,
    "extra": st.dictionaries(st.sampled_from(["X-Forwarded-For", "X-Forwarded-Host", "Origin", "Accept",
                                              "Content-Encoding", "Transfer-Encoding", "Authorization"]),
                             header_text, max_size=3)})
secured_cases = st.fixed_dictionaries({
    "path": st.sampled_from(KNOWN_PATHS),
    "method": st.sampled_from(["GET", "POST", "OPTIONS"]),
    "body": bodies,
    "authorization": st.one_of(st.none(), header_text, header_text.map("Bearer ".__add__), jwt_shaped,
                               st.builds(lambda exp, aud_ok, claims: (exp, aud_ok, claims),
                                         st.integers(-4000, 4000), st.booleans(),
                                         st.dictionaries(st.sampled_from(["tenant", "nbf", "sub"]), json_values,
                                                         max_size=2)))})

TOKEN = {"access_token": "ehr-secret-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
         "subject": "net-cds"}


@st.composite
def hostile_prefetch_bodies(draw: st.DrawFn) -> tuple[str, str]:
    """(service, JSON text): a valid request whose prefetch (and draft orders) carry hostile FHIR."""
    service = draw(st.sampled_from(SERVICES))
    prefetch = full_prefetch(service)
    for key in draw(st.lists(st.sampled_from(sorted(prefetch)), min_size=1, max_size=4, unique=True)):
        prefetch[key] = draw(hostile_bundles() | hostile_resources)
    body = hook_body(service, prefetch=prefetch)
    if service == "net-order-sign":
        body["context"]["draftOrders"]["entry"] = [{"resource": r} for r in draw(st.lists(hostile_resources,
                                                                                            max_size=2))]
    return service, to_json(body)


@st.composite
def hostile_server_cases(draw: st.DrawFn) -> tuple[str, dict, list[str]]:
    """(service, request, answers): some prefetch keys missing, the FHIR server answering hostile FHIR."""
    service = draw(st.sampled_from(SERVICES))
    prefetch = full_prefetch(service)
    for key in draw(st.lists(st.sampled_from(sorted(prefetch)), min_size=1, max_size=5, unique=True)):
        del prefetch[key]
    body = hook_body(service, prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN)
    return service, body, draw(st.lists(server_answers, min_size=1, max_size=6))



# Each family: a strategy and a function that sends one drawn case and returns (response, broken rules).
# The tests below and bench/fuzz_run.py (20,000 requests) use the same families.

def send_open(apps: dict, key: Key, case: dict) -> tuple[object, list[str]]:
    headers = {**case["extra"], "Content-Type": case["content_type"]}
    return _request(apps["open"], case["method"], case["path"], case["body"], headers), []


def send_secured(apps: dict, key: Key, case: dict) -> tuple[object, list[str]]:
    path, method, authorization = case["path"], case["method"], case["authorization"]
    headers = {"Content-Type": "application/json"}
    if isinstance(authorization, tuple):  # a properly signed token, valid or not
        exp, aud_ok, claims = authorization
        aud = PUBLIC + path if aud_ok else PUBLIC + "/elsewhere"
        headers["Authorization"] = "Bearer " + mint(key, aud, exp_in=exp, **claims)
    elif authorization is not None:
        headers["Authorization"] = authorization
    response = _request(apps["secured"], method, path, case["body"], headers)
    broken = []
    if response.status_code == 401 and response.get_json(silent=True) != UNAUTHORIZED_BODY:
        broken.append("a 401 with a body other than the fixed one")
    if method != "OPTIONS" and path != "/healthz" and "Authorization" not in headers and response.status_code != 401:
        broken.append("no token but not a 401")
    return response, broken


def send_hook(apps: dict, key: Key, body: dict) -> tuple[object, list[str]]:
    """Mostly-valid hook requests, so that hostile values reach gather, the profile builder and the rules."""
    context = body.get("context")
    service = "net-order-sign" if isinstance(context, dict) and "draftOrders" in context else "net-patient-view"
    return apps["open"].post(f"/cds-services/{service}", json=body), []


def send_feedback(apps: dict, key: Key, body: dict) -> tuple[object, list[str]]:
    return apps["open"].post("/cds-services/net-patient-view/feedback", json=body), []


def send_hostile_prefetch(apps: dict, key: Key, case: tuple[str, str]) -> tuple[object, list[str]]:
    service, body = case
    return apps["open"].post(f"/cds-services/{service}", data=body, content_type="application/json"), []


def send_hostile_server(apps: dict, key: Key, case: tuple[str, dict, list[str]]) -> tuple[object, list[str]]:
    """The FHIR server answers hostile FHIR: the token must never leave the FHIR base either."""
    service, body, answers = case
    served = iter(answers * 20)

    def answer(request):  # noqa: ANN001, ANN202
        return 200, {"Content-Type": "application/fhir+json"}, next(served, "{}")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(".*"), callback=answer)
        response = apps["fetching"].post(f"/cds-services/{service}", json=body)
        sent_to = [c.request.url for c in rsps.calls]
    outside = [url for url in sent_to if not is_under(FHIR_BASE, url) or ".." in url.split("?")[0]]
    return response, [f"token sent outside the FHIR base: {outside}"] if outside else []


FAMILIES = {
    "open service": (open_cases, send_open),
    "secured service": (secured_cases, send_secured),
    "near-valid hook": (near_valid_hook_bodies(), send_hook),
    "feedback": (near_valid_feedback(), send_feedback),
    "hostile prefetch": (hostile_prefetch_bodies(), send_hostile_prefetch),
    "hostile FHIR server": (hostile_server_cases(), send_hostile_server),
}


def _check(apps: dict, keys: dict, family: str, case: object) -> None:
    response, broken = FAMILIES[family][1](apps, keys["es384"], case)
    event(f"status {response.status_code}")
    assert response.status_code < 500, (family, str(case)[:300], response.get_data(as_text=True)[:300])
    assert not broken, (family, broken)


@FUZZ
@given(case=open_cases)
def test_no_request_to_the_open_service_is_a_500(apps, keys, case):
    _check(apps, keys, "open service", case)


@FUZZ
@given(case=secured_cases)
def test_no_request_to_the_secured_service_is_a_500(apps, keys, case):
    _check(apps, keys, "secured service", case)


@FUZZ
@given(case=near_valid_hook_bodies())
def test_no_hook_request_is_a_500(apps, keys, case):
    _check(apps, keys, "near-valid hook", case)


@FUZZ
@given(case=near_valid_feedback())
def test_no_feedback_request_is_a_500(apps, keys, case):
    _check(apps, keys, "feedback", case)


@FUZZ
@given(case=hostile_prefetch_bodies())
def test_no_hook_request_with_hostile_fhir_in_the_prefetch_is_a_500(apps, keys, case):
    _check(apps, keys, "hostile prefetch", case)


@FUZZ
@given(case=hostile_server_cases())
def test_no_hook_request_with_hostile_fhir_server_answers_is_a_500(apps, keys, case):
    _check(apps, keys, "hostile FHIR server", case)


def test_fuzz_strategies_reach_the_handlers(apps):
    """Guard against a fuzzer that only ever tests the error paths: a valid body gets a 200."""
    body = json.dumps(copy.deepcopy(hook_body()))
    response = apps["open"].post("/cds-services/net-patient-view", data=body, content_type="application/json")
    assert response.status_code == 200
