"""The SMART app's launch handling (unit: the FHIR server's discovery answered by `responses`), the card
links to it, and its settings. The whole flow against a real authorization server: tests/integration."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cds_service.app import create_app
from cds_service.config import StartupError
from cds_service.samples import get_sample
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from cds_service.web import smart_session

FHIR = "https://fhir.example.org/r4"
AUTH = "https://auth.example.org"
SMART = {"smart_client_id": "net-timeline", "smart_session_key": "k" * 32, "allowed_fhir_servers": (FHIR,),
         "auth": "disabled"}


def _client(**overrides):
    return create_app({**SMART, **overrides}).test_client()


def _discovery(rsps: responses.RequestsMock, token_endpoint: str = f"{AUTH}/token") -> None:
    rsps.get(f"{FHIR}/.well-known/smart-configuration",
             json={"authorization_endpoint": f"{AUTH}/authorize", "token_endpoint": token_endpoint})


def test_ehr_launch_redirects_with_pkce_state_aud_launch_and_v2_scopes():
    with responses.RequestsMock() as rsps:
        _discovery(rsps)
        answer = _client().get("/app/launch", query_string={"iss": FHIR, "launch": "abc"})
    assert answer.status_code == 302
    url = urlsplit(answer.headers["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{AUTH}/authorize"
    assert query["response_type"] == ["code"] and query["client_id"] == ["net-timeline"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["aud"] == [FHIR] and query["launch"] == ["abc"] and len(query["state"][0]) >= 32
    scopes = query["scope"][0].split()
    assert scopes[0] == "launch" and "openid" in scopes and "fhirUser" in scopes
    resource_types = {q.resource_type for q in load_services()["net-patient-view"].queries}
    for rtype in resource_types - {"Patient"}:
        assert f"patient/{rtype}.rs" in scopes
    assert "patient/Patient.r" in scopes and "user/Medication.r" in scopes
    assert query["redirect_uri"] == ["http://localhost/app/callback"]
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{smart_session.COOKIE}=") and "HttpOnly" in cookie and "Path=/app" in cookie
    assert "code_verifier" not in cookie and query["code_challenge"][0] not in cookie  # encrypted


def test_standalone_launch_asks_for_a_patient():
    with responses.RequestsMock() as rsps:
        _discovery(rsps)
        answer = _client().get("/app/standalone")  # one FHIR server allowed: it is the iss
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.status_code == 302 and "launch" not in query
    assert query["scope"][0].split()[0] == "launch/patient"


@pytest.mark.parametrize(("params", "field"), [
    ({"launch": "abc"}, "iss"),
    ({"iss": "https://evil.example.org/fhir", "launch": "abc"}, "iss"),
    ({"iss": "http://169.254.169.254/latest", "launch": "abc"}, "iss"),
    ({"iss": FHIR}, "launch"),
])
def test_launch_refuses_what_it_must_not_follow(params, field):
    with responses.RequestsMock():  # no request may leave the service
        answer = _client().get("/app/launch", query_string=params)
    assert answer.status_code == 400
    assert answer.get_json()["issue"][0]["expression"] == [field]


def test_an_authorization_endpoint_on_a_metadata_address_is_refused():
    with responses.RequestsMock() as rsps:
        _discovery(rsps, token_endpoint="http://169.254.169.254/token")
        answer = _client().get("/app/launch", query_string={"iss": FHIR, "launch": "abc"})
    assert answer.status_code == 400 and "token endpoint" in answer.get_json()["issue"][0]["diagnostics"]


def test_callback_and_timeline_without_a_launch():
    client = _client()
    assert client.get("/app/callback", query_string={"code": "c", "state": "s"}).status_code == 400
    answer = client.get("/app/timeline")
    assert answer.status_code == 401 and answer.get_json()["issue"][0]["diagnostics"] == "Authentication failed."
    client.set_cookie(smart_session.COOKIE, "forged", path="/app")
    assert client.get("/app/timeline").status_code == 401


def test_without_a_client_id_there_is_no_launch():
    client = create_app({"auth": "disabled"}).test_client()
    assert client.get("/app/launch", query_string={"iss": FHIR, "launch": "abc"}).status_code == 404


def test_a_client_id_needs_a_session_key():
    with pytest.raises(StartupError, match="NET_CDS_SMART_SESSION_KEY"):
        create_app({"smart_client_id": "x", "auth": "disabled"})


def _patient_view(client) -> list[dict]:
    service = load_services()["net-patient-view"]
    sample = "net-si-after-prrt-early"
    body = hook_request(service, sample, prefetch=prefetch_from_bundle(service, get_sample(sample).bundle(), sample))
    answer = client.post("/cds-services/net-patient-view", json=body)
    assert answer.status_code == 200
    return answer.get_json()["cards"]


def test_cards_link_to_the_timeline_app_only_when_it_is_configured():
    plain = _patient_view(create_app({"auth": "disabled"}).test_client())
    assert plain and not any(link.get("type") == "smart" for card in plain for link in card.get("links", ()))
    url = "https://cds.example.org/app/launch"
    linked = _patient_view(create_app({"auth": "disabled", "smart_app_url": url}).test_client())
    assert len(linked) == len(plain)
    for card in linked:
        smart = [link for link in card["links"] if link["type"] == "smart"]
        assert len(smart) == 1 and smart[0]["url"] == url and smart[0]["label"]
