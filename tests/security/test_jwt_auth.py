"""Client authentication with real signed JWTs (CDS Hooks 2.0 §Trusting CDS Clients)."""

from __future__ import annotations

import json

import pytest
import responses

from cds_service import create_app
from cds_service.config import Settings
from cds_service.security import StartupError
from cds_service.web.errors import UNAUTHORIZED_BODY
from tests.security.conftest import (
    DISCOVERY_AUD,
    ISS,
    JKU,
    PUBLIC,
    PV_PATH,
    bearer,
    claims,
    jwks,
    mint,
    unsigned,
)
from tests.security.hook_bodies import hook_body

PV_AUD = PUBLIC + PV_PATH


def assert_bare_401(response) -> None:
    """The one answer to every authentication failure: JSON, without the reason (the audit log has it)."""
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json() == UNAUTHORIZED_BODY
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- accepted -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key_name", ["es384", "rs384", "ps384"])
def test_valid_token_opens_discovery(auth_client, keys, key_name):
    response = auth_client.get("/cds-services", headers=bearer(mint(keys[key_name])))
    assert response.status_code == 200
    assert response.get_json()["services"]


def test_aud_may_be_an_array_holding_the_endpoint(auth_client, keys):
    token = mint(keys["es384"], aud=["https://other.example.org/cds-services", DISCOVERY_AUD])
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200


def test_small_clock_skew_is_tolerated(auth_client, keys):
    token = mint(keys["es384"], exp_in=-20, iat_offset=20)  # expired 20 s ago, issued 20 s "in the future"
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200


def test_authenticated_hook_call_passes_auth(auth_client, keys):
    """Auth passes: the request then fails validation (400), not authentication."""
    response = auth_client.post(PV_PATH, json={"hook": "patient-view"}, headers=bearer(mint(keys["es384"], PV_AUD)))
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_authenticated_hook_call_returns_cards(auth_client, keys):
    response = auth_client.post(PV_PATH, json=hook_body(), headers=bearer(mint(keys["rs384"], PV_AUD)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json()["cards"], list)


def test_allowlisted_jku_is_fetched_and_cached(auth_client, keys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JKU, json=jwks(keys["jku"]))
        for _ in range(3):
            token = mint(keys["jku"], headers={"jku": JKU})
            assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200
        assert len(rsps.calls) == 1  # cached
        assert rsps.calls[0].request.req_kwargs["timeout"]


def test_public_base_url_unset_uses_the_request_url(tmp_path, jwks_file, keys):
    app = create_app(Settings().with_overrides(auth="required", trusted_issuers=(ISS,), jwks_file=jwks_file,
                                               jti_db="memory", feedback_db=str(tmp_path / "fb.sqlite3")))
    client = app.test_client()
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"], "http://localhost/cds-services"))
                      ).status_code == 200
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"]))).status_code == 401


def test_healthz_and_cors_preflight_need_no_token(auth_client):
    assert auth_client.get("/healthz").status_code == 200
    preflight = auth_client.options(PV_PATH, headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"


# --- refused: the matrix, then further cases --------------------------------------------

def test_expired_token_is_401(auth_client, keys):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], exp_in=-120))))


def test_wrong_aud_is_401(auth_client, keys):
    token = mint(keys["es384"], aud="https://cds.example.org/cds-services/net-order-sign")
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))


def test_token_for_discovery_does_not_open_a_hook(auth_client, keys):
    response = auth_client.post(PV_PATH, json=hook_body(), headers=bearer(mint(keys["es384"], DISCOVERY_AUD)))
    assert_bare_401(response)


def test_wrong_iss_is_401(auth_client, keys):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], iss="https://evil.example"))))


def test_replayed_jti_is_401(auth_client, keys):
    token = mint(keys["es384"])
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))
    same_jti = mint(keys["rs384"], jti=json.loads(jwt_payload(token))["jti"])  # fresh signature, same jti
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(same_jti)))


def test_replay_is_detected_across_app_instances_sharing_the_jti_db(auth_settings, keys):
    token = mint(keys["es384"])
    assert create_app(auth_settings).test_client().get("/cds-services", headers=bearer(token)).status_code == 200
    assert_bare_401(create_app(auth_settings).test_client().get("/cds-services", headers=bearer(token)))


def test_alg_none_is_401(auth_client, keys):
    token = unsigned({"alg": "none", "typ": "JWT", "kid": keys["es384"].kid}, claims())
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))


def test_hs256_signed_with_the_public_key_is_401(auth_client, keys):
    key = keys["rs384"]
    token = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims(), secret=key.public_pem())
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))
    jwk_secret = json.dumps(key.jwk()).encode()
    token = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims(), secret=jwk_secret)
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))


def test_jku_not_allowlisted_is_401_without_fetching(auth_client, keys):
    with responses.RequestsMock() as rsps:  # any HTTP request would fail the test
        token = mint(keys["jku"], headers={"jku": "https://attacker.example/jwks.json"})
        assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))
        assert len(rsps.calls) == 0


def test_allowlisted_jku_does_not_follow_redirects(auth_client, keys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JKU, status=302, headers={"Location": "https://attacker.example/jwks.json"})
        token = mint(keys["jku"], headers={"jku": JKU})
        assert_bare_401(auth_client.get("/cds-services", headers=bearer(token)))
        assert [c.request.url for c in rsps.calls] == [JKU]


def test_key_from_jku_does_not_sign_for_the_file_keys(auth_client, keys):
    """A token without jku is only checked against the configured keys."""
    with responses.RequestsMock():
        assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["jku"]))))


def test_signature_by_another_key_with_a_known_kid_is_401(auth_client, keys):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["stranger"]))))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_missing_required_claim_is_401(auth_client, keys, claim):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], drop=(claim,)))))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt",
                                    "Bearer " + "A" * 20000])
def test_missing_or_malformed_authorization_is_401(auth_client, header):
    headers = {} if header is None else {"Authorization": header}
    assert_bare_401(auth_client.get("/cds-services", headers=headers))


def test_issued_in_the_future_is_401(auth_client, keys):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], iat_offset=600,
                                                                          exp_in=900))))


def test_overlong_lifetime_is_401(auth_client, keys):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], exp_in=7 * 86400))))


def test_not_yet_valid_nbf_is_401(auth_client, keys):
    import time

    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], nbf=int(time.time()) + 600))))


@pytest.mark.parametrize("headers", [{"typ": "at+jwt"}, {"kid": ""}, {"kid": "unknown-kid"}])
def test_bad_header_is_401(auth_client, keys, headers):
    assert_bare_401(auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], headers=headers))))


def test_feedback_needs_its_own_audience(auth_client, keys):
    path = PV_PATH + "/feedback"
    body = {"feedback": [{"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-28T10:00:00Z"}]}
    assert_bare_401(auth_client.post(path, json=body, headers=bearer(mint(keys["es384"], PV_AUD))))
    assert auth_client.post(path, json=body, headers=bearer(mint(keys["es384"], PUBLIC + path))).status_code == 200


def test_unknown_paths_under_cds_services_are_401_before_404(auth_client):
    assert_bare_401(auth_client.post("/cds-services/nope", json={}))
    assert_bare_401(auth_client.get("/cds-services/"))
    assert_bare_401(auth_client.get("/cds-services/net-patient-view/feedback/x"))


def test_tenant_allowlist(auth_settings, keys):
    client = create_app(auth_settings.with_overrides(trusted_tenants=("hospital-a",))).test_client()
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"], tenant="hospital-a"))).status_code == 200
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(keys["es384"], tenant="hospital-b"))))
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(keys["es384"]))))


# --- configuration ------------------------------------------------------------------------------

def test_production_requires_auth_by_default(tmp_path):
    with pytest.raises(StartupError, match="NET_CDS_TRUSTED_ISSUERS"):
        create_app(Settings().with_overrides(environment="production", feedback_db=str(tmp_path / "f.db")))


def test_required_auth_needs_keys(tmp_path):
    with pytest.raises(StartupError, match="NET_CDS_JWKS_FILE"):
        create_app(Settings().with_overrides(auth="required", trusted_issuers=(ISS,),
                                             feedback_db=str(tmp_path / "f.db")))


def test_bad_auth_mode_is_refused(tmp_path):
    with pytest.raises(StartupError, match="NET_CDS_AUTH"):
        create_app(Settings().with_overrides(auth="maybe", feedback_db=str(tmp_path / "f.db")))


def test_env_variables_configure_auth(jwks_file):
    settings = Settings.from_env({"NET_CDS_ENV": "production", "NET_CDS_TRUSTED_ISSUERS": f"{ISS}, https://b.example",
                                  "NET_CDS_JWKS_FILE": str(jwks_file), "NET_CDS_ALLOWED_JKU": JKU,
                                  "NET_CDS_JWT_LEEWAY": "30", "NET_CDS_JTI_DB": "memory"})
    assert settings.trusted_issuers == (ISS, "https://b.example")
    assert (settings.jwks_file, settings.allowed_jku, settings.jwt_leeway) == (jwks_file, (JKU,), 30.0)


def test_disabled_auth_warns_loudly(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="cds_service.security"):
        app = create_app(Settings().with_overrides(environment="demo", feedback_db=str(tmp_path / "f.db")))
    assert "AUTHENTICATION IS DISABLED" in caplog.text
    assert app.test_client().get("/cds-services").status_code == 200


def jwt_payload(token: str) -> str:
    import base64

    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
