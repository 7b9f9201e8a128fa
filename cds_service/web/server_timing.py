"""Server-Timing (W3C) for hook answers: where this request's time went, for integrators and the benchmark.

    Server-Timing: fhir;dur=14.2;desc="11 requests", fhir-slowest;dur=9.1;desc="pathology+labs+status",
                   profile;dur=1.0, cards;dur=1.3, total;dur=18.0

`fhir` is the data step (prefetch reading and fallback queries); `fhir-slowest` the slowest single
fallback request, timed where it ran (all pages of it); `fhir-medications` the round of Medication
reads that referenced medications need after the searches (only when there was one).
`total - fhir-slowest` is what the service adds to the FHIR server's time (BENCHMARKS.md, fallback
target). Durations and query keys only: no ids, no data.
Off with NET_CDS_SERVER_TIMING=false.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StepTimer:
    """Wall time of a request's named steps, in the order they ran."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: dict[str, float] = {}
        self.details: dict[str, tuple[float, str]] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + (time.perf_counter() - started) * 1000

    def detail(self, name: str, duration_ms: float, description: str) -> None:
        """A measured figure that is not a step of this thread (e.g. the slowest parallel FHIR request)."""
        self.details[name] = (duration_ms, description)

    def header(self) -> str:
        total = (time.perf_counter() - self.started) * 1000
        parts = [f"{name};dur={ms:.1f}" for name, ms in self.steps.items()]
        parts += [f'{name};dur={ms:.1f};desc="{_quoted(text)}"' for name, (ms, text) in self.details.items()]
        parts.append(f"total;dur={total:.1f}")
        return ", ".join(parts)


def _quoted(text: str) -> str:
    """A header-safe quoted-string body: printable ASCII without quotes or backslashes, at most 80 chars."""
    return "".join(ch for ch in text if 32 <= ord(ch) < 127 and ch not in '"\\')[:80]


def parse_server_timing(header: str) -> dict[str, float]:
    """{metric: dur} from a Server-Timing header (the benchmark and tests read it back)."""
    out: dict[str, float] = {}
    for metric in header.split(","):
        name, _, params = metric.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur":
                out[name.strip()] = float(value)
    return out
