"""Warm a worker before it takes traffic, so its first EHR call is as fast as the ones after it.

Everything clinical is loaded lazily on first use (code lists, card templates, the FHIR model classes
strict validation needs, the feedback store's connection, Flask's and marshmallow's first-request
work): without a warm-up the first call a fresh gunicorn worker answers pays for it (about 60 ms,
against a few ms steady). So the warm-up loads every mapping file, compiles every card template,
imports the FHIR model class of every resource type the services read and the element classes of
every sample resource (strict validation, its results not cached), opens the feedback store, and
then sends each service, through the app's full request path (Flask test client), one NET sample
patient (with its draft orders where the hook has them), twice. Those requests carry the WSGI
environ key WARM_UP: they skip authentication, the audit line and feedback recording, and are
evaluated as of the sample set's date. No HTTP request can set that key (WSGI servers put request
headers under HTTP_* keys only).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from cds_service.config import Settings

log = logging.getLogger(__name__)

WARM_UP = "net_cds.warm_up"  # WSGI environ key of the warm-up's own requests
ROUNDS = 2  # the second call of a fresh process still paid for a few first-use costs


def is_warm_up(environ: Mapping[str, Any]) -> bool:
    """Whether this request is the in-process warm-up (never true for a request from the network)."""
    return environ.get(WARM_UP) is True


def warm_up(app: Flask) -> float:
    """Warm this process for `app`; seconds spent (0 when there was nothing to warm up with, or it failed:
    a warm-up never keeps a worker from starting)."""
    start = time.perf_counter()
    settings: Settings = app.config["NET_CDS"]
    try:
        _load_clinical_data()
        _load_fhir_models(settings)
        _open_feedback_store(app)
        requests = _requests(settings)
        if not requests:
            return 0.0
        client = app.test_client()
        for _ in range(ROUNDS):
            for path, body in requests:
                response = client.post(path, json=body, environ_overrides={WARM_UP: True})
                if response.status_code != 200:
                    log.warning("warm-up call %s answered HTTP %s", path, response.status_code)
    except Exception as exc:  # noqa: BLE001 - a warm-up must never keep a worker from starting
        log.warning("warm-up skipped: %s", type(exc).__name__)
        return 0.0
    gc.collect()  # what the warm-up loaded lives as long as the worker: keep it out of future collections
    gc.freeze()
    elapsed = time.perf_counter() - start
    log.info("warm-up done in %.0f ms (%d services)", elapsed * 1000, len(requests))
    return elapsed


def _load_clinical_data() -> None:
    """Every code list, every card template, the FHIR model class of every type the services read."""
    from cds_service.cards.data import card_data
    from cds_service.fhir.validation import model_class
    from cds_service.profile.codes import load_all
    from cds_service.services.registry import load_services

    load_all()
    cards = card_data()
    for name in cards.env.list_templates(extensions=["j2"]):
        cards.env.get_template(name)
    for key, rule in cards.rules.items():
        if isinstance(rule, dict) and "summary" in rule:
            cards.summary_template(key)
    types = {q.resource_type for service in load_services().values() for q in service.queries}
    for resource_type in sorted(types | {"Medication", "MedicationRequest", "ServiceRequest"}):
        model_class(resource_type)


def _load_fhir_models(settings: Settings) -> None:
    """The FHIR element classes the samples' encodings use (quantities, ratios, dosages, ...): strict
    validation imports each on first use. Validated uncached, so no patient's answer is pre-computed."""
    from cds_service.fhir.validation import load_models_for
    from cds_service.samples import list_samples

    for sample in list_samples(settings):
        bundles = [sample.bundle(), sample.draft_orders() or {}]
        load_models_for(e["resource"] for b in bundles for e in b.get("entry") or () if isinstance(e, dict)
                        and isinstance(e.get("resource"), dict))


def _open_feedback_store(app: Flask) -> None:
    """The issued-cards store's tables and connection (the warm-up's own calls record nothing)."""
    from cds_service.feedback.recording import EXTENSION_KEY

    store = app.extensions.get(EXTENSION_KEY)
    if store is not None:
        store.prepare()


def _requests(settings: Settings) -> list[tuple[str, dict]]:
    """(path, body) of one hook call per service, each on a NET sample patient (with draft orders for
    the hooks that have them) as the tiny EHR builds them; [] without samples."""
    from cds_service.samples import list_samples, sample_set_as_of
    from cds_service.services.registry import load_services
    from cds_service.tiny_ehr import hook_request, patient_id_of, prefetch_from_bundle

    net = [s for s in list_samples(settings) if s.rules and "scope" not in s.rules]
    as_of = sample_set_as_of(settings)
    out = []
    for service_id, service in load_services().items():
        needs_drafts = service.takes_drafts
        fitting = [s for s in net if s.draft or not needs_drafts]
        if not fitting:
            continue
        sample = max(fitting, key=lambda s: len(s.rules))  # the one that walks the most rules
        bundle = sample.bundle()
        patient_id = patient_id_of(bundle)
        body = hook_request(service, patient_id, prefetch=prefetch_from_bundle(service, bundle, patient_id),
                            draft_orders=sample.draft_orders() if needs_drafts else None, as_of=as_of)
        out.append((f"/cds-services/{service_id}", body))
    return out
