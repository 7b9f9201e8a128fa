"""The client side: keys from `net-cds keys generate` and tokens from client_keys are what the service accepts."""

from __future__ import annotations

import json
import stat

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from cds_service import create_app
from cds_service.cli import main
from cds_service.config import Settings
from cds_service.security.client_keys import algorithm_for, client_token, generate_client_key
from cds_service.security.jwks import parse_jwks
from tests.security.conftest import ISS, PUBLIC, PV_PATH, bearer
from tests.security.hook_bodies import hook_body


@pytest.fixture
def generated(tmp_path):
    assert main(["keys", "generate", "--out", str(tmp_path / "keys"), "--kid", "ehr-test"]) == 0
    return tmp_path / "keys" / "client-private.pem", tmp_path / "keys" / "client-jwks.json"


def _secured(tmp_path, jwks_file) -> object:
    settings = Settings().with_overrides(auth="required", trusted_issuers=(ISS,), jwks_file=jwks_file,
                                         public_base_url=PUBLIC, jti_db="memory",
                                         feedback_db=str(tmp_path / "fb.sqlite3"))
    return create_app(settings).test_client()


def test_generated_key_pair_is_private_and_publishes_only_the_public_key(generated):
    private_file, jwks_file = generated
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    jwks = json.loads(jwks_file.read_text())
    assert [k["kid"] for k in jwks["keys"]] == ["ehr-test"] and jwks["keys"][0]["alg"] == "ES384"
    assert "d" not in jwks["keys"][0]  # no private component
    assert list(parse_jwks(jwks)) == ["ehr-test"]


def test_signed_call_is_accepted_and_the_same_call_unsigned_or_replayed_is_401(tmp_path, generated):
    private_file, jwks_file = generated
    client = _secured(tmp_path, jwks_file)
    token = client_token(private_file.read_bytes(), iss=ISS, aud=PUBLIC + PV_PATH, kid="ehr-test")
    assert client.post(PV_PATH, json=hook_body(), headers=bearer(token)).status_code == 200
    assert client.post(PV_PATH, json=hook_body(), headers=bearer(token)).status_code == 401  # jti replayed
    assert client.post(PV_PATH, json=hook_body()).status_code == 401
    other = client_token(private_file.read_bytes(), iss="https://not-trusted.example", aud=PUBLIC + PV_PATH,
                         kid="ehr-test")
    assert client.post(PV_PATH, json=hook_body(), headers=bearer(other)).status_code == 401


def test_token_claims_are_short_lived_and_bound_to_the_url(generated):
    private_file, _ = generated
    token = client_token(private_file.read_bytes(), iss=ISS, aud="https://cds.example.org/x", kid="ehr-test")
    header, claims = jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES384" and header["kid"] == "ehr-test" and header["typ"] == "JWT"
    assert claims["aud"] == "https://cds.example.org/x" and claims["iss"] == ISS and claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 300


@pytest.mark.parametrize(("key", "alg"), [
    (ec.generate_private_key(ec.SECP256R1()), "ES256"), (ec.generate_private_key(ec.SECP521R1()), "ES512"),
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS384")])
def test_algorithm_follows_the_key(key, alg):
    assert algorithm_for(key) == alg


def test_other_key_types_are_refused(tmp_path, capsys):
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "ed.pem").write_bytes(pem)
    code = main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa", "--service-url",
                 "http://127.0.0.1:9", "--jwt-key", str(tmp_path / "ed.pem"), "--jwt-iss", ISS])
    assert code == 2 and "not a usable private key" in capsys.readouterr().err


def test_jwt_key_needs_a_service_url_and_an_issuer(generated, capsys):
    private_file, _ = generated
    assert main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa",
                 "--jwt-key", str(private_file)]) == 2
    assert "--service-url" in capsys.readouterr().err


def test_generate_does_not_overwrite_without_force(generated, capsys):
    private_file, _ = generated
    before = private_file.read_bytes()
    assert main(["keys", "generate", "--out", str(private_file.parent)]) == 2
    assert private_file.read_bytes() == before and "--force" in capsys.readouterr().err


def test_generated_keys_differ(tmp_path):
    assert generate_client_key("a")[0] != generate_client_key("a")[0]
