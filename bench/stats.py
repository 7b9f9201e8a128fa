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
