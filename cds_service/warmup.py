"""Warm a worker before it takes traffic: load mappings, templates and FHIR models once.

Everything clinical is loaded lazily on first use (about 0.3 s); without a warm-up the first EHR
request a fresh gunicorn worker answers pays for it. The warm-up runs the real pipeline for one
bundled sample patient, in-process, with no HTTP request and nothing recorded.
"""

from __future__ import annotations

import gc
import logging
import time

from cds_service.config import Settings

log = logging.getLogger(__name__)


def warm_up(settings: Settings) -> float:
    """Run each service's pipeline once on the first sample patient; seconds spent (0 on failure)."""
    start = time.perf_counter()
    try:
        from cds_service.cards import CardOptions
        from cds_service.fhir.gather import HookCall, gather_record
        from cds_service.fhir.validation import validate_used
        from cds_service.profile import build_profile
        from cds_service.profile.references import fact_references
        from cds_service.samples import list_samples, sample_set_as_of
        from cds_service.services.registry import handler_for, load_services
        from cds_service.tiny_ehr import patient_id_of, prefetch_from_bundle

        samples = [s for s in list_samples(settings) if s.draft] or list_samples(settings)
        if not samples:
            return 0.0
        bundle, drafts = samples[0].bundle(), samples[0].draft_orders()
        patient_id = patient_id_of(bundle)
        for service in load_services().values():
            prefetch = prefetch_from_bundle(service, bundle, patient_id)
            call = HookCall(patient_id, prefetch, None, None, drafts if service.takes_drafts else None,
                            as_of=sample_set_as_of(settings))
            record = gather_record(service, call, settings)
            profile = build_profile(record)
            validate_used(record, fact_references(profile))
            handler_for(service.id)(profile, CardOptions(settings.profile_card))
    except Exception as exc:  # a warm-up must never keep a worker from starting
        log.warning("warm-up skipped: %s", type(exc).__name__)
        return 0.0
    gc.collect()  # what the pipeline loaded lives as long as the worker: keep it out of future collections
    gc.freeze()
    elapsed = time.perf_counter() - start
    log.info("warm-up done in %.0f ms", elapsed * 1000)
    return elapsed
