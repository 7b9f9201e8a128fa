"""A SMART on FHIR authorization server with a FHIR server behind it, for the tests (loopback only).

Authlib's OAuth 2.0 authorization-code grant with PKCE required (S256), a SMART launch context (the EHR
launch id -> patient; standalone: the user picks the patient on the approval page), SMART v2 scopes,
`patient` in the token answer. `/fhir/*` is a FHIR server that accepts only this server's tokens: it
checks the token, its expiry, its scopes and its patient, then forwards the request to a real FHIR test
server (sekmet) with that server's own token and rewrites its base URL in the answer.

Run: python -m tests.integration.smart_server --port P --upstream URL --upstream-token T --client-id ID
     --redirect-uri URI --launch LAUNCH=PATIENT [--patient PATIENT ...]
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http only; never outside the tests

import requests  # noqa: E402
from authlib.integrations.flask_oauth2 import AuthorizationServer  # noqa: E402
from authlib.oauth2.rfc6749 import ClientMixin, grants  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from flask import Flask, Response, abort, jsonify, request  # noqa: E402

TOKEN_SECONDS = 300
_RESOURCE = re.compile(r"^([A-Z][A-Za-z]+)(?:/([A-Za-z0-9\-.]{1,64}))?$")


@dataclass
class Client(ClientMixin):
    client_id: str
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # a public client: PKCE instead of a secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Grant:
    """What the user approved: the patient in context, the scopes."""

    patient: str
    scope: str

    def get_user_id(self) -> str:
        return "practitioner-1"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    patient: str
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> int:
        return int(self.issued)

    def is_expired(self) -> bool:
        return time.time() - self.issued > 120


def _payload(req: Any) -> dict[str, Any]:
    payload = getattr(req, "payload", None)
    data = getattr(payload, "data", None) if payload is not None else None
    return dict(data if data is not None else req.data)


def make_app(args: argparse.Namespace) -> Flask:
    app = Flask(__name__)
    client = Client(args.client_id, args.redirect_uri)
    launches = dict(item.split("=", 1) for item in args.launch)
    codes: dict[str, Code] = {}
    tokens: dict[str, dict[str, Any]] = {}
    base = f"http://127.0.0.1:{args.port}"
    fhir_base = f"{base}/fhir"

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = _payload(req)
            codes[code] = Code(code, client.client_id, data.get("redirect_uri") or client.redirect_uri,
                               data.get("scope") or "", req.user.patient, data.get("code_challenge"),
                               data.get("code_challenge_method"))

        def query_authorization_code(self, code: str, c: Client) -> Code | None:
            found = codes.get(code)
            return found if found and found.client_id == c.client_id and not found.is_expired() else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> Grant:
            return Grant(authorization_code.patient, authorization_code.scope)

    def generate_token(grant_type: str, client: Client, user: Grant | None = None, scope: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True, **_: Any) -> dict:
        return {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                "scope": scope or "", "patient": user.patient if user else None}

    def save_token(token: dict, req: Any) -> None:
        tokens[token["access_token"]] = {"patient": token.get("patient"), "scope": token.get("scope", "").split(),
                                         "expires": time.time() + TOKEN_SECONDS}

    server = AuthorizationServer(app, query_client=lambda cid: client if cid == client.client_id else None,
                                 save_token=save_token)
    server.register_token_generator("default", generate_token)
    server.register_grant(CodeGrant, [CodeChallenge(required=True)])

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> Response:
        return jsonify({"issuer": base, "authorization_endpoint": f"{base}/authorize",
                        "token_endpoint": f"{base}/token", "grant_types_supported": ["authorization_code"],
                        "code_challenge_methods_supported": ["S256"],
                        "capabilities": ["launch-ehr", "launch-standalone", "context-ehr-patient",
                                         "context-standalone-patient", "client-public", "permission-v2"],
                        "scopes_supported": ["launch", "launch/patient", "openid", "fhirUser"]})

    def _checked_request() -> tuple[dict[str, Any], Any]:
        """The authorization request as validated by Authlib, plus the SMART checks (aud, launch)."""
        if request.args.get("aud") != fhir_base:
            abort(400, "aud must be the FHIR server's base URL")
        grant = server.get_consent_grant(end_user=None)
        scopes = (request.args.get("scope") or "").split()
        launch = request.args.get("launch")
        if launch is not None:
            if "launch" not in scopes or launch not in launches:
                abort(400, "unknown launch or no launch scope")
        elif "launch/patient" not in scopes:
            abort(400, "a standalone launch must ask for launch/patient")
        return {"launch": launch, "scopes": scopes}, grant

    @app.get("/authorize")
    def authorize_page() -> Response:
        checked, _grant = _checked_request()
        action = html.escape("/authorize?" + request.query_string.decode())  # the request rides in the query
        if checked["launch"]:
            chooser = f"<p>Patient in context: <strong>{html.escape(launches[checked['launch']])}</strong></p>"
        else:
            options = "".join(f'<option value="{html.escape(p)}">{html.escape(p)}</option>' for p in args.patient)
            chooser = f'<label for="patient">Patient</label> <select id="patient" name="patient">{options}</select>'
        page = (f'<!doctype html><html lang="en"><head><title>Authorize</title></head><body><main>'
                f'<h1>Authorize {html.escape(client.client_id)}</h1><form method="post" action="{action}">'
                f'{chooser}<p>Scopes: {html.escape(" ".join(checked["scopes"]))}</p>'
                f'<button type="submit" name="decision" value="approve">Approve</button> '
                f'<button type="submit" name="decision" value="deny">Deny</button></form></main></body></html>')
        return Response(page, mimetype="text/html")

    @app.post("/authorize")
    def authorize_decision() -> Response:
        checked, grant = _checked_request()
        patient = launches[checked["launch"]] if checked["launch"] else request.form.get("patient", "")
        if request.form.get("decision") != "approve" or patient not in (*launches.values(), *args.patient):
            return server.create_authorization_response(grant_user=None, grant=grant)
        return server.create_authorization_response(grant_user=Grant(patient, " ".join(checked["scopes"])),
                                                    grant=grant)

    @app.post("/token")
    def issue_token() -> Response:
        return server.create_token_response()

    @app.get("/fhir/metadata")
    def metadata() -> Response:
        return _forward("metadata")

    @app.get("/fhir/<path:path>")
    def fhir(path: str) -> Response:
        auth = request.headers.get("Authorization", "")
        token = tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or token["expires"] < time.time():
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        match = _RESOURCE.match(path)
        if not match or not _allowed(token, match[1], match[2] is not None, path):
            return Response(status=403)
        return _forward(path)

    def _allowed(token: dict[str, Any], rtype: str, is_read: bool, path: str) -> bool:
        scopes = token["scope"]
        if rtype == "Medication":
            return is_read and any(s in scopes for s in ("user/Medication.r", "user/Medication.rs"))
        wanted = "r" if is_read else "s"
        granted = any(s.startswith(f"patient/{rtype}.") and wanted in s.split(".", 1)[1] for s in scopes)
        if not granted:
            return False
        if rtype == "Patient":
            return path == f"Patient/{token['patient']}"
        named = request.args.get("patient") or request.args.get("subject") or ""
        return named.rsplit("/", 1)[-1] == token["patient"]  # searches stay in the patient's compartment

    def _forward(path: str) -> Response:
        answer = requests.get(f"{args.upstream}/{path}", params=list(request.args.items(multi=True)), timeout=30,
                              headers={"Authorization": f"Bearer {args.upstream_token}",
                                       "Accept": request.headers.get("Accept", "application/fhir+json")})
        body = answer.content.replace(args.upstream.encode(), fhir_base.encode())
        return Response(body, status=answer.status_code, content_type=answer.headers.get("Content-Type"))

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--upstream-token", default="")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--launch", action="append", default=[])
    parser.add_argument("--patient", action="append", default=[])
    args = parser.parse_args()
    make_app(args).run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
