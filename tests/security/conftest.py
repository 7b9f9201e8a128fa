"""Keys generated per test session, a JWT minting helper and apps with authentication required."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service import create_app
from cds_service.config import Settings
from tests.conftest import FHIR_BASE

ISS = "https://ehr.example.org"
PUBLIC = "https://cds.example.org"
DISCOVERY_AUD = f"{PUBLIC}/cds-services"
PV_PATH = "/cds-services/net-patient-view"
JKU = "https://ehr.example.org/.well-known/jwks.json"


@dataclass(frozen=True)
class Key:
    kid: str
    alg: str
    private: object

    def jwk(self) -> dict:
        data = json.loads(jwt.algorithms.get_default_algorithms()[self.alg].to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="session")
def keys() -> dict[str, Key]:
    """ES384 and RS384 keys (the spec's recommended algorithms), plus a stranger's key."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "es384": Key("ehr-es384", "ES384", ec.generate_private_key(ec.SECP384R1())),
        "rs384": Key("ehr-rs384", "RS384", rsa_key),
        "ps384": Key("ehr-ps384", "PS384", rsa_key),
        "stranger": Key("ehr-es384", "ES384", ec.generate_private_key(ec.SECP384R1())),  # same kid, other key
        "jku": Key("ehr-jku-1", "ES384", ec.generate_private_key(ec.SECP384R1())),
    }


def jwks(*keys: Key) -> dict:
    return {"keys": [k.jwk() for k in keys]}


def mint(key: Key, aud: str | list[str] = DISCOVERY_AUD, *, iss: str = ISS, exp_in: float = 300, iat_offset: float = 0,
         jti: str | None = None, headers: dict | None = None, drop: tuple[str, ...] = (), **claims: object) -> str:
    """A signed token as a CDS client would send it (claims can be dropped or changed)."""
    now = int(time.time())
    payload = {"iss": iss, "sub": "net-cds-test-client", "aud": aud, "exp": int(now + exp_in),
               "iat": int(now + iat_offset), "jti": jti or str(uuid.uuid4()), **claims}
    for name in drop:
        payload.pop(name, None)
    header = {"kid": key.kid, "typ": "JWT", **(headers or {})}
    return jwt.encode(payload, key.private, algorithm=key.alg, headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, secret: bytes | None = None) -> str:
    """A token pyjwt would not produce: alg none (no signature) or HS256 keyed with `secret`."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


def claims(aud: str = DISCOVERY_AUD, **overrides: object) -> dict:
    now = int(time.time())
    return {"iss": ISS, "sub": "net-cds-test-client", "aud": aud, "exp": now + 300, "iat": now,
            "jti": str(uuid.uuid4()), **overrides}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def jwks_file(tmp_path: Path, keys: dict[str, Key]) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(keys["es384"], keys["rs384"], keys["ps384"])), encoding="utf-8")
    return path


@pytest.fixture
def auth_settings(tmp_path: Path, jwks_file: Path) -> Settings:
    """Production-like: authentication required, keys from a JWKS file, one allowlisted jku."""
    return Settings().with_overrides(
        auth="required", trusted_issuers=(ISS,), jwks_file=jwks_file, allowed_jku=(JKU,),
        public_base_url=PUBLIC, jti_db=str(tmp_path / "jti.sqlite3"), feedback_db=str(tmp_path / "fb.sqlite3"),
        allowed_fhir_servers=(FHIR_BASE,), fhir_timeout=10.0, fhir_total_timeout=20.0, fhir_page_size=0)


@pytest.fixture
def auth_app(auth_settings: Settings):
    return create_app(auth_settings)


@pytest.fixture
def auth_client(auth_app):
    return auth_app.test_client()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shared development settings, with the feedback database in the test's own directory."""
    return Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE,), fhir_timeout=10.0, fhir_total_timeout=20.0,
                                     fhir_page_size=0, feedback_db=str(tmp_path / "fb.sqlite3"))
