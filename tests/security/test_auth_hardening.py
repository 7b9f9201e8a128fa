"""Authentication findings of the external audit (issue 13: findings 2, 7, 8 and the JWT items of 9).

2: unsigned junk tokens naming an allowlisted `jku` that fails or trickles made one JWKS fetch per token
   (a failed fetch never started the cooldown), without a total deadline, with a lock held.
7: production started without NET_CDS_PUBLIC_BASE_URL / NET_CDS_ALLOWED_FHIR_SERVERS, and `aud` then
   followed the Host header.
8: a token carrying `jku` could only be checked against the keys fetched from it: no local key copy.
9: `exp` as a string and a missing `sub` were accepted.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from pathlib import Path

import pytest
import responses

from cds_service import create_app
from cds_service.config import Settings
from cds_service.security import StartupError
from cds_service.security.jwks import KeyStore
from tests.security.conftest import DISCOVERY_AUD, ISS, JKU, PUBLIC, bearer, claims, jwks, mint

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def junk(header: dict, payload: dict | bytes, signature: bytes = b"x" * 96) -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{_b64(json.dumps(header).encode())}.{_b64(body)}.{_b64(signature)}"


JKU_HEADER = {"alg": "ES384", "typ": "JWT", "kid": "k-1", "jku": JKU}


# --- 2: jku fetches -------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [{"status": 500}, {"body": "not json"}, {"json": {"no": "keys"}}])
def test_a_failed_jku_fetch_starts_the_cooldown(auth_client, keys, failure):
    """Ten properly signed tokens whose kid the failing jku never delivers: one fetch, not ten."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, JKU, **failure)
        for _ in range(10):
            token = mint(keys["jku"], headers={"jku": JKU})
            assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 401
        assert len(rsps.calls) == 1


def test_a_plausible_unsigned_token_fetches_at_most_once_per_cooldown(auth_client):
    """Claims and signature length that could be genuine (only a key tells): one fetch for many tokens."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, JKU, json={"keys": []})
        for _ in range(20):
            assert auth_client.get("/cds-services", headers=bearer(junk(JKU_HEADER, claims()))).status_code == 401
        assert len(rsps.calls) == 1


@pytest.mark.parametrize("token", [
    junk(JKU_HEADER, claims(), signature=b""),
    junk(JKU_HEADER, claims(), signature=b"x" * 5),
    junk(JKU_HEADER, b"not json"),
    junk(JKU_HEADER, claims(iss="https://attacker.example")),
    junk(JKU_HEADER, claims(aud="https://elsewhere.example/cds-services")),
    junk(JKU_HEADER, claims(exp=int(time.time()) - 3600)),
    junk(JKU_HEADER, claims(exp=str(int(time.time()) + 60))),
    junk({**JKU_HEADER, "kid": ""}, claims()),
    junk({**JKU_HEADER, "alg": "HS256"}, claims()),
])
def test_junk_tokens_never_trigger_a_jwks_fetch(auth_client, token):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, JKU, json={"keys": []})
        for _ in range(3):
            response = auth_client.get("/cds-services", headers=bearer(token))
            assert response.status_code == 401
        assert len(rsps.calls) == 0


class TricklingServer:
    """A loopback HTTP server that answers one byte every 0.1 s and never finishes (until stopped)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/jwks.json"
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(4096)
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 100_000:
                    if self.stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(0.1)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_trickling_jku_does_not_hold_the_request(tmp_path, jwks_file, keys):
    """The fetch has a total deadline and runs without holding a lock: tokens are answered while the
    JWKS server is still trickling, and it is asked once."""
    server = TricklingServer()
    try:
        settings = Settings().with_overrides(auth="required", trusted_issuers=(ISS,), jwks_file=jwks_file,
                                             allowed_jku=(server.url,), public_base_url=PUBLIC, jti_db="memory",
                                             feedback_db=str(tmp_path / "fb.sqlite3"))
        client = create_app(settings).test_client()
        statuses: list[int] = []

        def call() -> None:
            token = mint(keys["jku"], headers={"jku": server.url})
            statuses.append(client.get("/cds-services", headers=bearer(token)).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)  # a bound for the test itself, not a performance figure
        assert not any(t.is_alive() for t in threads), "a token was held by the trickling JWKS server"
        assert statuses == [401] * 4
        assert not server.stop.is_set()  # the server was still trickling when the answers came
        assert server.connections == 1
    finally:
        server.close()


def test_a_slow_jwks_fetch_does_not_block_tokens_verified_with_other_keys(tmp_path, jwks_file, keys):
    server = TricklingServer()
    try:
        store = KeyStore(jwks_file, fetch_deadline=0.3)
        results: list[list[dict]] = []
        blocked = threading.Thread(target=lambda: results.append(store.keys_for("k-x", server.url)))
        blocked.start()
        assert store.keys_for(keys["es384"].kid)  # the file's keys while the jku fetch is in flight
        blocked.join(timeout=30)
        assert not blocked.is_alive() and results == [[]]
    finally:
        server.close()


# --- 9: claims --------------------------------------------------------------------------------------

def test_exp_as_a_string_is_401(auth_client, keys):
    token = mint(keys["es384"], exp=str(int(time.time()) + 120))
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_iat_or_nbf_as_a_string_is_401(auth_client, keys, claim):
    token = mint(keys["es384"], **{claim: str(int(time.time()) - 5)})
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 401


def test_missing_sub_is_401_by_default(auth_client, keys):
    assert auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], drop=("sub",)))).status_code == 401
    assert auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], sub=""))).status_code == 401
    assert auth_client.get("/cds-services", headers=bearer(mint(keys["es384"], sub=7))).status_code == 401
    assert auth_client.get("/cds-services", headers=bearer(mint(keys["es384"]))).status_code == 200


def test_missing_sub_can_be_allowed_for_clients_that_follow_the_2_0_example(auth_settings, keys):
    client = create_app(auth_settings.with_overrides(jwt_require_sub=False)).test_client()
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"], drop=("sub",)))).status_code == 200
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"], sub=""))).status_code == 401


# --- 7: production settings ------------------------------------------------------------------------

def _production(tmp_path: Path, jwks_file: Path, **overrides: object) -> Settings:
    values: dict = {"environment": "production", "trusted_issuers": (ISS,), "jwks_file": jwks_file,
                    "jti_db": "memory", "feedback_db": str(tmp_path / "fb.sqlite3"), "public_base_url": PUBLIC,
                    "allowed_fhir_servers": ("https://ehr.example.org/fhir",), "require_https_fhir": True}
    values.update(overrides)
    return Settings().with_overrides(**values)


@pytest.mark.parametrize("missing", ["public_base_url", "allowed_fhir_servers"])
def test_production_refuses_to_start_without_its_required_settings(tmp_path, jwks_file, missing):
    name = {"public_base_url": "NET_CDS_PUBLIC_BASE_URL", "allowed_fhir_servers": "NET_CDS_ALLOWED_FHIR_SERVERS"}
    empty = None if missing == "public_base_url" else ()
    with pytest.raises(StartupError, match=name[missing]):
        create_app(_production(tmp_path, jwks_file, **{missing: empty}))


def test_production_from_the_environment_refuses_too(tmp_path, jwks_file):
    settings = Settings.from_env({"NET_CDS_ENV": "production", "NET_CDS_TRUSTED_ISSUERS": ISS,
                                  "NET_CDS_JWKS_FILE": str(jwks_file), "NET_CDS_JTI_DB": "memory",
                                  "NET_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")})
    with pytest.raises(StartupError, match="NET_CDS_PUBLIC_BASE_URL.*NET_CDS_ALLOWED_FHIR_SERVERS"):
        create_app(settings)


def test_in_production_aud_never_follows_the_host_header(tmp_path, jwks_file, keys):
    client = create_app(_production(tmp_path, jwks_file)).test_client()
    for host in ("attacker.example", "localhost"):
        token = mint(keys["es384"], f"http://{host}/cds-services")
        assert client.get("/cds-services", headers={**bearer(token), "Host": host}).status_code == 401
    assert client.get("/cds-services", headers=bearer(mint(keys["es384"], DISCOVERY_AUD))).status_code == 200


def test_production_has_no_third_party_cors_origin_by_default():
    assert Settings.from_env({"NET_CDS_ENV": "production"}).cors_origins == ()
    assert Settings.from_env({}).cors_origins == ("https://sandbox.cds-hooks.org",)


# --- 8: pinned key sets per issuer ------------------------------------------------------------------

@pytest.fixture
def sandbox_jwks(tmp_path, keys) -> Path:
    """A local copy of the issuer's key set (here the test's own key stands in for the sandbox's)."""
    path = tmp_path / "sandbox-jwks.json"
    path.write_text(json.dumps(jwks(keys["jku"])))
    return path


def test_a_jku_token_from_a_pinned_issuer_is_verified_with_the_local_copy_and_nothing_is_fetched(
        auth_settings, sandbox_jwks, keys):
    settings = auth_settings.with_overrides(trusted_issuers=(ISS, SANDBOX_ISS),
                                            issuer_jwks=((SANDBOX_ISS, sandbox_jwks),))
    client = create_app(settings).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, SANDBOX_JKU, json=jwks(keys["stranger"]))
        token = mint(keys["jku"], iss=SANDBOX_ISS, headers={"jku": SANDBOX_JKU})
        assert client.get("/cds-services", headers=bearer(token)).status_code == 200
        # a key the jku would serve, but not the pinned copy: refused
        forged = mint(keys["stranger"], iss=SANDBOX_ISS, headers={"jku": SANDBOX_JKU, "kid": keys["jku"].kid})
        assert client.get("/cds-services", headers=bearer(forged)).status_code == 401
        assert len(rsps.calls) == 0


def test_a_pinned_key_signs_only_for_its_issuer(auth_settings, sandbox_jwks, keys):
    settings = auth_settings.with_overrides(trusted_issuers=(ISS, SANDBOX_ISS),
                                            issuer_jwks=((SANDBOX_ISS, sandbox_jwks),))
    client = create_app(settings).test_client()
    token = mint(keys["jku"], iss=ISS)  # the sandbox's key claiming to be the other EHR
    assert client.get("/cds-services", headers=bearer(token)).status_code == 401


def test_pinned_issuer_settings_from_the_environment(sandbox_jwks):
    settings = Settings.from_env({"NET_CDS_ISSUER_JWKS": f"{SANDBOX_ISS}={sandbox_jwks}"})
    assert settings.issuer_jwks == ((SANDBOX_ISS, sandbox_jwks),)


def test_a_pinned_issuer_must_be_trusted_and_its_file_readable(auth_settings, sandbox_jwks, tmp_path):
    with pytest.raises(StartupError, match="NET_CDS_TRUSTED_ISSUERS"):
        create_app(auth_settings.with_overrides(issuer_jwks=((SANDBOX_ISS, sandbox_jwks),)))
    with pytest.raises(StartupError, match="NET_CDS_ISSUER_JWKS"):
        create_app(auth_settings.with_overrides(trusted_issuers=(ISS, SANDBOX_ISS),
                                                issuer_jwks=((SANDBOX_ISS, tmp_path / "missing.json"),)))
