"""Prometheus metrics: what the hooks answered, how fast, what data was missing, what clinicians did.

Under gunicorn each worker is its own process: set PROMETHEUS_MULTIPROC_DIR to an empty folder
(a fresh tmpfs per replica) before the service starts, and `/metrics` adds up every worker's files
(prometheus-client's multiprocess mode). Only counters and histograms are used, which that mode
sums without needing to know when a worker exits. Without the variable (one process: tests,
`net-cds call`) the process's own registry is served.

Label values are bounded: service ids and topic codes come from the service's own definitions,
prefetch keys from `definitions.yaml`, override reasons from `cards/override_reasons.yaml`
(anything else is "other"), auth failure reasons from a fixed list of codes. Never a patient id.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Hook answers take 2-200 ms with prefetch, up to the FHIR total timeout (4 s) with fallback queries.
LATENCY_BUCKETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5,
                   0.75, 1.0, 2.0, 4.0, 8.0)

HOOK_DURATION = Histogram("net_cds_hook_duration_seconds", "Hook call latency in the service (request "
                          "received to answer built), by CDS service", ["service"], buckets=LATENCY_BUCKETS)
HOOK_CALLS = Counter("net_cds_hook_calls_total", "Hook calls answered, by CDS service and HTTP status",
                     ["service", "status"])
CARDS = Counter("net_cds_cards_total", "Cards returned, by CDS service, card topic and indicator "
                "(divide by net_cds_hook_calls_total for cards per call)", ["service", "topic", "indicator"])
PREFETCH_MISSING = Counter("net_cds_prefetch_missing_total", "Prefetch keys the EHR did not send (or sent as an "
                           "OperationOutcome), so the service had to query them", ["service", "key"])
FALLBACK_REQUESTS = Counter("net_cds_fhir_fallback_requests_total", "FHIR requests the service made itself "
                            "(fallback queries and Medication reads)", ["service"])
FALLBACK_FAILURES = Counter("net_cds_fhir_fallback_failures_total", "Fallback FHIR requests that failed or timed "
                            "out", ["service"])
FEEDBACK = Counter("net_cds_feedback_total", "Feedback entries stored (retries not counted), by CDS service, "
                   "card topic, outcome and override reason", ["service", "topic", "outcome", "reason"])
AUTH_FAILURES = Counter("net_cds_auth_failures_total", "Requests refused with 401, by reason",
                        ["reason"])
JTI_FALLBACK = Counter("net_cds_jti_cache_fallback_total", "Tokens checked against the host's own jti cache "
                       "because the shared database was unreachable")
ISSUED_NOT_RECORDED = Counter("net_cds_issued_cards_not_recorded_total", "Hook answers whose cards could not be "
                              "recorded for feedback (database unreachable or queue full)")


def observe_hook(service: str, status: int, seconds: float) -> None:
    HOOK_CALLS.labels(service, str(status)).inc()
    HOOK_DURATION.labels(service).observe(seconds)


def observe_cards(service: str, cards: Iterable[dict]) -> None:
    for card in cards:
        topic = ((card.get("source") or {}).get("topic") or {}).get("code") or "none"
        CARDS.labels(service, topic, str(card.get("indicator") or "none")).inc()


def observe_prefetch_missing(service: str, keys: Iterable[str]) -> None:
    for key in keys:
        PREFETCH_MISSING.labels(service, key).inc()


def observe_fallback(service: str, requests: int, failures: int) -> None:
    if requests:
        FALLBACK_REQUESTS.labels(service).inc(requests)
    if failures:
        FALLBACK_FAILURES.labels(service).inc(failures)


def observe_feedback(service: str, topic: str | None, outcome: str, reason: str | None) -> None:
    FEEDBACK.labels(service, topic or "unknown", outcome, reason or "none").inc()


def observe_auth_failure(reason: str) -> None:
    AUTH_FAILURES.labels(reason).inc()


def use_multiprocess_dir(path: str) -> None:
    """Switch this process to multiprocess mode with `path` before gunicorn forks its workers.

    prometheus-client picks its mode when it is imported, and `net-cds` has imported it by then (the
    CLI loads every command); the metrics here all have labels, whose values are created on first
    use with the value class chosen now, so the workers write their files to `path`."""
    from prometheus_client import values

    os.environ[MULTIPROCESS_ENV] = path
    values.ValueClass = values.get_value_class()


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type: every worker's in multiprocess mode, else this process's."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
