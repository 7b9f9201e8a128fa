"""Latency statistics: percentiles (linear interpolation, as numpy's default) and run summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, interpolating linearly between closest ranks."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies_ms: Sequence[float], wall_s: float, errors: int = 0) -> dict[str, float]:
    """p50/p95/p99/max/mean latency (ms), request count and throughput (requests per second)."""
    count = len(latencies_ms)
    return {
        "requests": count,
        "errors": errors,
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "max_ms": max(latencies_ms) if count else math.nan,
        "mean_ms": sum(latencies_ms) / count if count else math.nan,
        "rps": count / wall_s if wall_s > 0 else math.nan,
    }


def overhead_summary(latencies_ms: Sequence[float], slowest_fhir_ms: Sequence[float | None]) -> dict[str, float] | None:
    """Per request, hook latency minus the slowest FHIR request of that same call (as the service timed it):
    what the service adds to the FHIR server's time. None when no request reported a FHIR figure."""
    pairs = [(lat, fhir) for lat, fhir in zip(latencies_ms, slowest_fhir_ms, strict=True) if fhir is not None]
    if not pairs:
        return None
    added = [lat - fhir for lat, fhir in pairs]
    fhir = [f for _, f in pairs]
    return {"requests": len(pairs), "p50_ms": percentile(added, 50), "p95_ms": percentile(added, 95),
            "p99_ms": percentile(added, 99), "max_ms": max(added), "fhir_slowest_p50_ms": percentile(fhir, 50),
            "fhir_slowest_p95_ms": percentile(fhir, 95)}
