"""The SMART App Launch 2 client side: discovery, the authorization request (PKCE S256) and the code
exchange, through fhirclient.

Discovery reads `.well-known/smart-configuration` of the FHIR server (SMART 2), else the OAuth URIs of its
CapabilityStatement (fhirclient's own discovery). The FHIR server must be on the allowlist before
anything is asked of it; the authorization and token endpoints it names must be http(s) URLs on no
forbidden address, and https when FHIR servers must be.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from fhirclient import client as fhir_client
from fhirclient.auth import FHIRAuth

from cds_service.config import Settings
from cds_service.fhir.outbound import OutboundBlocked, _is_forbidden_host, check_fhir_url

log = logging.getLogger(__name__)

DISCOVERY_TIMEOUT = 5.0


class SmartError(Exception):
    """The launch cannot go on; the message is safe to show (no token, no patient data)."""


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str


def launch_scopes(resource_types: list[str]) -> str:
    """SMART v2 scopes for the resources the profile reads (read and search) and the user's identity.
    Medication is outside the patient compartment: user-level read. fhirclient adds the launch scope
    (`launch` for an EHR launch, `launch/patient` for a standalone one)."""
    scopes = ["openid", "fhirUser"]
    for rtype in dict.fromkeys(resource_types):
        scopes.append(f"patient/{rtype}.r" if rtype == "Patient" else f"patient/{rtype}.rs")
    scopes.append("user/Medication.r")
    return " ".join(scopes)


def _checked_endpoint(url: Any, name: str, settings: Settings) -> str:
    if not isinstance(url, str) or not url:
        raise SmartError(f"the FHIR server names no {name} endpoint")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise SmartError(f"the {name} endpoint is not an http(s) URL")
    if settings.require_https_fhir and parts.scheme != "https":
        raise SmartError(f"the {name} endpoint must use https")
    if _is_forbidden_host(parts.hostname):
        raise SmartError(f"the {name} endpoint is not an allowed address")
    return url


def discover(iss: str, settings: Settings) -> Endpoints:
    """The authorization and token endpoints of an allowlisted FHIR server."""
    try:
        check_fhir_url(iss, settings)
    except OutboundBlocked as exc:
        raise SmartError(str(exc).replace("fhirServer", "iss")) from None
    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    config: dict[str, Any] = {}
    try:
        answer = requests.get(url, headers={"Accept": "application/json"}, timeout=DISCOVERY_TIMEOUT,
                              allow_redirects=False)
        if answer.status_code == 200:
            config = answer.json() if isinstance(answer.json(), dict) else {}
    except (requests.RequestException, ValueError) as exc:
        log.info("SMART discovery at %s failed (%s); trying the CapabilityStatement", iss, type(exc).__name__)
    if not config.get("authorization_endpoint"):
        config = _capability_endpoints(iss)
    return Endpoints(_checked_endpoint(config.get("authorization_endpoint"), "authorization", settings),
                     _checked_endpoint(config.get("token_endpoint"), "token", settings))


def _capability_endpoints(iss: str) -> dict[str, Any]:
    """fhirclient's discovery: the oauth-uris extension of the CapabilityStatement."""
    probe = fhir_client.FHIRClient(settings={"app_id": "discovery", "api_base": iss})
    try:
        probe.server.get_capability()
    except Exception as exc:  # noqa: BLE001 - any failure means: no SMART endpoints known
        raise SmartError("the FHIR server's SMART configuration could not be read") from exc
    auth = probe.server.auth
    return {"authorization_endpoint": getattr(auth, "_authorize_uri", None),
            "token_endpoint": getattr(auth, "_token_uri", None)}


def new_client(iss: str, endpoints: Endpoints, settings: Settings, redirect_uri: str, scope: str,
               launch: str | None) -> fhir_client.FHIRClient:
    """A fhirclient SMART client for this launch, its OAuth2 endpoints set from discovery."""
    config: dict[str, Any] = {"app_id": settings.smart_client_id, "api_base": iss, "redirect_uri": redirect_uri,
                              "scope": scope}
    if settings.smart_client_secret:
        config["app_secret"] = settings.smart_client_secret
    client = fhir_client.FHIRClient(settings=config, save_func=lambda _state: None)
    client.launch_token = launch  # EHR launch: scope gets `launch`; standalone: `launch/patient`
    client.server.auth = FHIRAuth.create("oauth2", state={
        "app_id": settings.smart_client_id, "app_secret": settings.smart_client_secret or None, "aud": iss,
        "redirect_uri": redirect_uri, "authorize_uri": endpoints.authorize, "token_uri": endpoints.token})
    return client


def authorize_url(client: fhir_client.FHIRClient) -> str:
    """The authorization request: response_type=code, client_id, redirect_uri, scope, aud, state, launch,
    code_challenge (S256) - fhirclient makes the state and the PKCE verifier."""
    url = client.authorize_url
    if "code_challenge_method=S256" not in url:  # a fhirclient without PKCE must not be used silently
        raise SmartError("the SMART client made an authorization request without PKCE")
    return url


def restore(state: dict[str, Any]) -> fhir_client.FHIRClient:
    return fhir_client.FHIRClient(state=state, save_func=lambda _state: None)


def exchange(client: fhir_client.FHIRClient, callback_url: str) -> tuple[str, str]:
    """(access token, patient id) from the callback: state checked, code exchanged with the PKCE verifier."""
    try:
        client.handle_callback(callback_url)
    except Exception as exc:  # noqa: BLE001 - fhirclient raises bare Exceptions for every OAuth failure
        log.info("SMART callback refused: %s", type(exc).__name__)
        raise SmartError("authorization failed") from None
    token = client.server.auth.access_token if client.server and client.server.auth else None
    if not token or not client.patient_id:
        raise SmartError("authorization gave no access token or no patient")
    return token, str(client.patient_id)
