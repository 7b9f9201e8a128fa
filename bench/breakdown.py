"""In-process breakdown: where one request's time goes, step by step.

Calls the same functions, in the same order, as the hooks blueprint (cds_service/web/hooks.py), N
times on the same request body, and times each step. `wsgi` is the same body through Flask's test
client (the whole in-process request path); `wsgi - sum(steps)` is Flask/Werkzeug overhead.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stats import percentile
from cds_service import create_app, json_codec
from cds_service.config import Settings
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.fhir.validation import validate_used
from cds_service.profile.references import fact_references
from cds_service.services.registry import load_services
from cds_service.web import hooks
from cds_service.web.card_validation import valid_cards

STEPS = ("parse", "request_schema", "gather", "profile", "validate_used", "rules", "render", "card_validation",
         "feedback", "serialize")


def _stage_functions() -> tuple[Callable, Callable, Callable]:
    from cds_service.cards import render_cards
    from cds_service.profile import build_profile
    from cds_service.rules import evaluate

    return build_profile, evaluate, render_cards


def _record_feedback() -> Callable[[str, str, list[dict]], None]:
    try:
        from cds_service.feedback.recording import record_issued_cards
    except ImportError:  # feedback recording not in this version of the service
        return lambda *_: None
    return record_issued_cards


def one_pass(raw: bytes, service_id: str, settings: Settings) -> tuple[dict[str, float], dict]:
    """Run the request path once (GC paused, as gc_pause.gc_deferred does); ms per step and the payload.

    Needs an application context (the feedback store lives on the app).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _one_pass(raw, service_id, settings)
    finally:
        if enabled:
            gc.enable()


def _one_pass(raw: bytes, service_id: str, settings: Settings) -> tuple[dict[str, float], dict]:
    build_profile, evaluate, render_cards = _stage_functions()
    service = load_services()[service_id]
    times: dict[str, float] = {}
    clock = time.perf_counter

    t = clock()
    body = json_codec.loads(raw)  # as hooks.read_json_object
    times["parse"] = clock() - t

    t = clock()
    data, context = hooks._validated(body, service.hook)
    times["request_schema"] = clock() - t

    t = clock()
    token = (data.get("fhirAuthorization") or {}).get("access_token")
    call = HookCall(patient_id=context["patientId"], prefetch=data.get("prefetch") or {},
                    fhir_server=data.get("fhirServer"), access_token=token,
                    draft_orders=context.get("draftOrders") and body["context"]["draftOrders"])
    record = gather_record(service, call, settings)
    times["gather"] = clock() - t

    t = clock()
    profile = build_profile(record)
    times["profile"] = clock() - t

    t = clock()
    profile.notes.extend(validate_used(record, fact_references(profile)))
    times["validate_used"] = clock() - t

    t = clock()
    findings = evaluate(profile, service.hook)
    times["rules"] = clock() - t

    t = clock()
    cards = render_cards(findings, profile)
    times["render"] = clock() - t

    t = clock()
    cards, _rejected = valid_cards(cards)
    times["card_validation"] = clock() - t

    t = clock()
    _record_feedback()(service_id, str(data["hookInstance"]), cards)
    times["feedback"] = clock() - t

    t = clock()
    payload: dict[str, Any] = {"cards": cards}
    if profile.notes:
        payload["extension"] = {hooks.DATA_QUALITY_EXTENSION: [
            {k: v for k, v in dataclasses.asdict(n).items() if v} for n in profile.notes]}
    json.dumps(payload, separators=(",", ":"))
    times["serialize"] = clock() - t
    return {k: v * 1000 for k, v in times.items()}, payload


def run_breakdown(raw: bytes, service_id: str, iterations: int = 50, warmup: int = 5,
                  settings: Settings | None = None) -> dict[str, Any]:
    """Median and p95 per step over `iterations` passes, plus the in-process WSGI total."""
    settings = settings or Settings.from_env()
    samples: dict[str, list[float]] = {step: [] for step in STEPS}
    payload: dict = {}
    app = create_app(settings)
    with app.app_context():
        for i in range(warmup + iterations):
            step_ms, payload = one_pass(raw, service_id, settings)
            if i >= warmup:
                for step, ms in step_ms.items():
                    samples[step].append(ms)
    client = app.test_client()
    wsgi: list[float] = []
    for i in range(warmup + iterations):
        t = time.perf_counter()
        response = client.post(f"/cds-services/{service_id}", data=raw, content_type="application/json")
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"in-process call answered {response.status_code}: {response.get_data(True)[:300]}")
        if i >= warmup:
            wsgi.append(elapsed)
    gc.collect()
    steps = {step: {"p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95)} for step, v in samples.items()}
    total_p50 = sum(s["p50_ms"] for s in steps.values())
    return {"iterations": iterations, "steps": steps, "sum_p50_ms": total_p50,
            "wsgi": {"p50_ms": percentile(wsgi, 50), "p95_ms": percentile(wsgi, 95)},
            "cards": len(payload.get("cards", [])),
            "notes": len((payload.get("extension") or {}).get(hooks.DATA_QUALITY_EXTENSION, []))}


def main(argv: list[str]) -> int:
    """`python -m bench.breakdown BODY SERVICE_ID ITERATIONS OUT [ALLOWED_FHIR_SERVER]`: a clean process
    (no benchmark data on its heap), as a gunicorn worker would be."""
    body_file, service_id, iterations, out_file, *allowed = argv
    settings = Settings.from_env()
    if allowed:
        settings = settings.with_overrides(allowed_fhir_servers=tuple(allowed))
    result = run_breakdown(Path(body_file).read_bytes(), service_id, int(iterations), settings=settings)
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
