"""The NET timeline as a SMART on FHIR app (SMART App Launch 2), at /app.

/app/launch        EHR launch: `iss` (on the FHIR allowlist, else 400) and `launch` -> the EHR's authorize URL
/app/standalone    standalone launch: `iss` (optional when one FHIR server is allowed) -> authorize URL
/app/callback      the authorization server's answer: state checked, code exchanged (PKCE) -> /app/timeline
/app/timeline      the patient's timeline, read with the clinician's token through the hooks' data path
/app/sample/<id>   development and demo only (404 in production): a bundled sample's timeline, no SMART
/app/static/...    the page's stylesheet (shipped in the package)

The FHIR data goes through exactly what patient-view uses: the fallback queries of its prefetch
templates (`gather_record`), the profile builder and the rules; this module only wires them.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import Unauthorized

from cds_service.config import Settings, StartupError
from cds_service.fhir import smart_client
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.samples import list_samples, sample_set_as_of
from cds_service.services.registry import load_services
from cds_service.timeline.render import timeline_page
from cds_service.web import smart_session
from cds_service.web.errors import ServiceError

log = logging.getLogger(__name__)
bp = Blueprint("smart_app", __name__, url_prefix="/app", static_folder="../static/timeline",
               static_url_path="/static")

SERVICE_ID = "net-patient-view"  # the app reads what this service's prefetch templates read
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# The page loads its stylesheet from this service and nothing else; SVG is inline, no script runs.
CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


def install_smart_app(app: Flask, settings: Settings) -> None:
    """Register /app. A configured client id needs a session key (else StartupError naming it)."""
    if settings.smart_client_id and not settings.smart_session_key:
        raise StartupError("NET_CDS_SMART_CLIENT_ID is set but NET_CDS_SMART_SESSION_KEY is not: the SMART "
                           "app needs a secret to encrypt its session cookie (the same on every replica).")
    app.register_blueprint(bp)


def _settings() -> Settings:
    return current_app.config["NET_CDS"]


def _secure(settings: Settings) -> bool:
    return settings.environment == "production" or request.scheme == "https"


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"  # the callback URL holds the code
    if request.endpoint != "smart_app.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _html(page: str) -> Response:
    return Response(page, mimetype="text/html")


def _css_url() -> str:
    return url_for("smart_app.static", filename="timeline.css")


# --------------------------------------------------------------------------------------------- samples


@bp.get("/sample/<sample_id>")
def sample_timeline(sample_id: str) -> Response:
    """A bundled sample's timeline, as of the sample set's date (development and demo only)."""
    settings = _settings()
    if settings.environment == "production":
        raise ServiceError(404, "No such endpoint or CDS service.")
    from cds_service.commands.explain import record_from_bundles

    sample = next((s for s in list_samples(settings) if s.id == sample_id), None)
    if sample is None:
        raise ServiceError(404, f"No sample patient '{sample_id}'.")
    record = record_from_bundles(sample.bundle())
    record.as_of = settings.as_of or sample_set_as_of(settings)
    return _html(timeline_page(record, _css_url()))


# ---------------------------------------------------------------------------------------------- SMART


def _configured(settings: Settings) -> None:
    if not settings.smart_client_id:
        raise ServiceError(404, "The SMART app is not configured (NET_CDS_SMART_CLIENT_ID).")


def _redirect_uri(settings: Settings) -> str:
    base = settings.public_base_url.rstrip("/") if settings.public_base_url else request.host_url.rstrip("/")
    return base + url_for("smart_app.callback")


def _resource_types() -> list[str]:
    return [q.resource_type for q in load_services()[SERVICE_ID].queries]


def _start(iss: str, launch: str | None) -> Response:
    settings = _settings()
    try:
        endpoints = smart_client.discover(iss, settings)
    except smart_client.SmartError as exc:
        raise ServiceError(400, f"iss: {exc}", "iss") from None
    scope = smart_client.launch_scopes(_resource_types())
    client = smart_client.new_client(iss, endpoints, settings, _redirect_uri(settings), scope, launch)
    try:
        url = smart_client.authorize_url(client)
    except smart_client.SmartError as exc:
        raise ServiceError(500, str(exc)) from None
    response = redirect(url, code=302)
    smart_session.save(response, settings.smart_session_key,
                       {"launch": _without_secret(client.state), "started": int(time.time())}, _secure(settings))
    return response


def _without_secret(state: dict[str, Any]) -> dict[str, Any]:
    """fhirclient's state without the client secret (it stays in the settings, never in a cookie)."""
    state = {**state, "app_secret": None}
    auth = dict((state.get("server") or {}).get("auth") or {})
    auth.pop("app_secret", None)
    state["server"] = {**(state.get("server") or {}), "auth": auth}
    return state


@bp.get("/launch")
def launch() -> Response:
    """EHR launch: the EHR opens this URL with `iss` (its FHIR base) and `launch` (an opaque context id)."""
    settings = _settings()
    _configured(settings)
    iss, launch_id = request.args.get("iss", ""), request.args.get("launch", "")
    if not iss:
        raise ServiceError(400, "iss: the FHIR server of the launch is missing.", "iss")
    if not launch_id:
        raise ServiceError(400, "launch: the EHR launch context is missing (standalone: /app/standalone).",
                           "launch")
    if len(launch_id) > 1024:
        raise ServiceError(400, "launch: too long.", "launch")
    return _start(iss, launch_id)


@bp.get("/standalone")
def standalone() -> Response:
    """Standalone launch: the clinician opens the app; the authorization server asks for the patient."""
    settings = _settings()
    _configured(settings)
    iss = request.args.get("iss") or (settings.allowed_fhir_servers[0] if len(settings.allowed_fhir_servers) == 1
                                      else "")
    if not iss:
        raise ServiceError(400, "iss: name the FHIR server (several are allowed).", "iss")
    return _start(iss, None)


@bp.get("/callback")
def callback() -> Response:
    settings = _settings()
    _configured(settings)
    saved = smart_session.load(request, settings.smart_session_key, smart_session.LAUNCH_MAX_AGE)
    if not saved or not isinstance(saved.get("launch"), dict):
        raise ServiceError(400, "state: no launch in progress in this browser (launch the app again).", "state")
    if request.args.get("error"):
        raise Unauthorized()
    state = saved["launch"]
    client = smart_client.restore(state)
    if settings.smart_client_secret and client.server and client.server.auth:
        client.server.auth.app_secret = settings.smart_client_secret
    try:
        token, patient_id = smart_client.exchange(client, request.url)
    except smart_client.SmartError:
        raise Unauthorized() from None
    if not _FHIR_ID.match(patient_id):
        raise ServiceError(400, "patient: the launch context names no valid FHIR patient id.", "patient")
    response = redirect(url_for("smart_app.timeline"), code=303)
    smart_session.save(response, settings.smart_session_key,
                       {"iss": state["server"]["base_uri"], "token": token, "patient": patient_id},
                       _secure(settings))
    return response


@bp.get("/timeline")
def timeline() -> Response:
    """The launched patient's timeline, read from the EHR's FHIR server with the clinician's token."""
    settings = _settings()
    _configured(settings)
    session = smart_session.load(request, settings.smart_session_key, smart_session.SESSION_MAX_AGE)
    if not session or not session.get("token"):
        raise Unauthorized()
    service = load_services()[SERVICE_ID]
    call = HookCall(patient_id=str(session["patient"]), prefetch={}, fhir_server=str(session["iss"]).rstrip("/"),
                    access_token=str(session["token"]), as_of=settings.as_of)
    record = gather_record(service, call, settings)  # 412 when required data cannot be had
    return _html(timeline_page(record, _css_url()))
