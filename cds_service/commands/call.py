"""`net-cds call`: act as a tiny EHR, call a hook and print the cards readably (or raw with --json)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from cds_service.commands.as_of import add_as_of_option, chosen_as_of
from cds_service.commands.samples import TOKEN_ENV
from cds_service.config import Settings
from cds_service.samples import get_sample, list_samples
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

SERVICE_FOR_HOOK = {"patient-view": "net-patient-view", "order-sign": "net-order-sign",
                    "order-select": "net-order-select"}
ICONS = {"critical": "[CRITICAL]", "warning": "[WARNING]", "info": "[INFO]"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("call", help="call a hook as an EHR would and print the cards")
    parser.add_argument("hook", choices=sorted(SERVICE_FOR_HOOK))
    parser.add_argument("--patient", required=True, help="sample patient id (see `net-cds samples list`)")
    parser.add_argument("--draft", type=Path, help="order-sign, order-select: a Bundle of draft orders (JSON file); "
                        "order-select selects all of them")
    parser.add_argument("--bundle", type=Path, help="use this FHIR Bundle instead of the bundled sample")
    parser.add_argument("--fhir-server", help="no prefetch: the service queries this FHIR server")
    parser.add_argument("--token", help=f"bearer token for --fhir-server (or set {TOKEN_ENV}); never printed")
    parser.add_argument("--service-url", help="call a running service (base URL) instead of in-process")
    parser.add_argument("--jwt-key", type=Path, help="with --service-url: sign each call with this private key "
                        "(PEM; `net-cds keys generate` makes one)")
    parser.add_argument("--jwt-iss", help="with --jwt-key: the issuer the service trusts (NET_CDS_TRUSTED_ISSUERS)")
    parser.add_argument("--jwt-kid", default="net-cds-test-client", help="with --jwt-key: the key id")
    add_as_of_option(parser)
    parser.add_argument("--json", action="store_true", help="print the raw CDS Hooks response")
    parser.add_argument("--timing", action="store_true",
                        help="also print where the call's time went (the answer's Server-Timing) on stderr; "
                             "in-process, the first call includes loading the rules and mappings")
    parser.set_defaults(func=run)


def _patient_file(args: argparse.Namespace) -> Path | None:
    """Where the patient's data comes from: --bundle, else the sample of that id (also when the sample
    was loaded on --fhir-server), else None."""
    if args.bundle:
        return args.bundle
    try:
        return get_sample(args.patient).file
    except KeyError:
        return None


class CallError(Exception):
    """A misuse of `net-cds call`: its message is the one line the user sees."""


def read_bundle(path: Path, option: str) -> dict:
    """The FHIR Bundle in `path`, or a CallError saying what is wrong with the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CallError(f"{option} {path}: cannot read it ({exc.strerror or type(exc).__name__}).") from None
    except UnicodeDecodeError:
        raise CallError(f"{option} {path}: not a text file; give a FHIR Bundle in JSON.") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CallError(f"{option} {path}: not valid JSON ({exc}); give a FHIR Bundle in JSON.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise CallError(f'{option} {path}: not a FHIR Bundle (needs "resourceType": "Bundle").')
    return data


def _request_body(args: argparse.Namespace, as_of: date | None) -> dict:
    service = load_services()[SERVICE_FOR_HOOK[args.hook]]
    draft = read_bundle(args.draft, "--draft") if args.draft else None
    if args.fhir_server:
        token = args.token or os.environ.get(TOKEN_ENV) or None
        return hook_request(service, args.patient, fhir_server=args.fhir_server.rstrip("/"),
                            access_token=token, draft_orders=draft, as_of=as_of)
    if args.bundle:
        bundle = read_bundle(args.bundle, "--bundle")
    else:
        sample = get_sample(args.patient)
        bundle = sample.bundle()
        if draft is None and service.takes_drafts:
            draft = sample.draft_orders()
    prefetch = prefetch_from_bundle(service, bundle, args.patient)
    return hook_request(service, args.patient, prefetch=prefetch, draft_orders=draft, as_of=as_of)


def no_drafts_message() -> str:
    """What an order-sign call with no draft orders tells the user (instead of 'no guidance')."""
    with_drafts = ", ".join(s.id for s in list_samples() if s.draft)
    return ("No cards: there were no draft orders to check (order-sign checks the orders being signed). "
            f"Give a Bundle of them with --draft FILE, or use a sample that has some: {with_drafts}.")


def _post(args: argparse.Namespace, body: dict) -> tuple[int, dict, str]:
    """(HTTP status, JSON answer, Server-Timing header or "")."""
    path = f"/cds-services/{SERVICE_FOR_HOOK[args.hook]}"
    if args.service_url:
        import requests

        url = args.service_url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {_signed_token(args, url)}"} if args.jwt_key else {}
        response = requests.post(url, json=body, headers=headers, timeout=30)
        timing = response.headers.get("Server-Timing", "")
        try:
            return response.status_code, response.json(), timing
        except ValueError:
            return response.status_code, {}, timing
    from cds_service import create_app

    settings = Settings.from_env()
    if args.fhir_server:  # the operator named this server on the command line: allow it
        settings = settings.with_overrides(
            allowed_fhir_servers=(*settings.allowed_fhir_servers, args.fhir_server.rstrip("/")))
    client = create_app(settings).test_client()
    response = client.post(path, json=body)
    return response.status_code, response.get_json(silent=True) or {}, response.headers.get("Server-Timing", "")


def _signed_token(args: argparse.Namespace, url: str) -> str:
    """A CDS Hooks client JWT for this call (aud: the exact URL called, as the service checks)."""
    from cds_service.security.client_keys import client_token

    return client_token(args.jwt_key.read_bytes(), iss=args.jwt_iss, aud=url, kid=args.jwt_kid)


def _jwt_problem(args: argparse.Namespace) -> str | None:
    """Why --jwt-key cannot be used as given, or None."""
    if not (args.service_url and args.jwt_iss):
        return "--jwt-key needs --service-url (a running service) and --jwt-iss (a trusted issuer)."
    from cds_service.security.client_keys import load_private_key

    try:
        load_private_key(args.jwt_key.read_bytes())
    except OSError as exc:
        return f"Cannot read {args.jwt_key}: {exc.strerror}."
    except (ValueError, TypeError) as exc:
        return f"{args.jwt_key} is not a usable private key (PEM, EC or RSA, unencrypted): {exc}"
    return None


def format_timing(header: str) -> str:
    """'timing: request 1.2 ms, fhir 0.5 ms, ...' from a Server-Timing header."""
    from cds_service.web.server_timing import parse_server_timing

    parts = parse_server_timing(header)
    return "timing: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in parts.items()) if parts else ""


def format_cards(response: dict, no_cards: str = "No cards: the service has no guidance for this patient.") -> str:
    """The cards as a clinician would read them, in plain text (`no_cards` when there are none)."""
    lines: list[str] = []
    cards = response.get("cards", [])
    if not cards:
        lines.append(no_cards)
    for number, card in enumerate(cards, 1):
        source = card.get("source", {})
        topic = (source.get("topic") or {}).get("code", "")
        lines.append(f"{'=' * 78}\n{number}. {ICONS.get(card.get('indicator'), '')} {card.get('summary')}")
        lines.append(f"   topic: {topic}   source: {source.get('label', '')} {source.get('url', '')}".rstrip())
        if card.get("detail"):
            lines.append("")
            lines.extend(f"   {line}" for line in card["detail"].splitlines())
        for suggestion in card.get("suggestions", []):
            actions = ", ".join(
                f"{a.get('type')} {(a.get('resource') or {}).get('resourceType') or a.get('resourceId', '')}"
                for a in suggestion.get("actions", []))
            lines.append(f"   -> suggestion: {suggestion.get('label')} ({actions})")
        for link in card.get("links", []):
            lines.append(f"   -> link: {link.get('label')}: {link.get('url')}")
    notes = (response.get("extension") or {}).get("org.net-cds.data-quality") or []
    if notes:
        lines.append(f"{'=' * 78}\nData-quality notes:")
        lines.extend(f" - {n.get('message')}" for n in notes)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.jwt_key:
        problem = _jwt_problem(args)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    as_of = chosen_as_of(args.as_of, _patient_file(args))
    try:
        body = _request_body(args, as_of)
    except KeyError:
        print(f"No sample patient '{args.patient}'. Try `net-cds samples list`.", file=sys.stderr)
        return 2
    except CallError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        status, response, timing = _post(args, body)
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors too
        print(f"Cannot reach the service at {args.service_url}: {type(exc).__name__}.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(response, indent=2))
    elif status == 401:
        print("HTTP 401: the service refused the call's credentials (its audit log says why).", file=sys.stderr)
    elif status != 200:
        issue = (response.get("issue") or [{}])[0]
        print(f"HTTP {status}: {issue.get('diagnostics', 'error')}", file=sys.stderr)
    else:
        if as_of is not None:
            print(f"As of {as_of.isoformat()} (--as-of DATE to change).")
        drafts = (body["context"].get("draftOrders") or {}).get("entry")
        no_drafts = args.hook in ("order-sign", "order-select") and not drafts
        print(format_cards(response, no_drafts_message()) if no_drafts else format_cards(response))
    if args.timing and timing:
        print(format_timing(timing), file=sys.stderr)
    return 0 if status == 200 else 1
