"""The CDS client's side of CDS Hooks 2.0 authentication, for testing a secured service.

An EHR signs a short-lived JWT per call with its private key and publishes the public key as a JWK
Set; the service checks it (jwt_auth.py). `net-cds keys generate` makes such a key pair, and
`net-cds call --service-url ... --jwt-key ... --jwt-iss ...` signs each call with it, so an
integration team can exercise a production-configured service without an EHR.
"""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
TOKEN_LIFETIME_S = 300  # CDS Hooks 2.0: "SHOULD" be short-lived (5 minutes at most)


def generate_client_key(kid: str) -> tuple[bytes, dict]:
    """A new P-384 key (ES384, the CDS Hooks recommended algorithm): (private key PEM, public JWK Set)."""
    private = ec.generate_private_key(ec.SECP384R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem, {"keys": [public_jwk(private, kid)]}


def public_jwk(private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, kid: str) -> dict:
    alg = algorithm_for(private)
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": alg}


def algorithm_for(private: object) -> str:
    """ES256/384/512 by curve for EC keys, RS384 for RSA; anything else is refused."""
    if isinstance(private, ec.EllipticCurvePrivateKey):
        alg = _EC_ALGS.get(private.curve.name)
        if alg:
            return alg
        raise ValueError(f"unsupported EC curve {private.curve.name}")
    if isinstance(private, rsa.RSAPrivateKey):
        return "RS384"
    raise ValueError("the key must be an EC (P-256/384/521) or RSA private key")


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    algorithm_for(key)  # refuses other key types
    return key  # type: ignore[return-value]  # EC or RSA, checked above


def client_token(private_pem: bytes, *, iss: str, aud: str, kid: str, lifetime_s: int = TOKEN_LIFETIME_S) -> str:
    """A signed CDS Hooks client JWT for one call to `aud` (the exact service URL called)."""
    key = load_private_key(private_pem)
    now = int(time.time())
    claims = {"iss": iss, "sub": iss, "aud": aud, "iat": now, "exp": now + lifetime_s, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers={"kid": kid, "typ": "JWT"})
