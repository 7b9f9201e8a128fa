"""Benchmark: the first hook call a fresh gunicorn worker answers, against the same worker's steady state.

    .venv/bin/python bench/cold_workers.py                      # 5 fresh workers per scenario, 200 calls
    .venv/bin/python bench/cold_workers.py --starts 10 --calls 300 --scenario pv-50

Per scenario (the request bodies of bench/run.py: pv-50 patient-view, os-ppi and os-ssa order-sign
with a draft): start gunicorn with one sync worker on a free loopback port (bench/server.py), wait
until /healthz answers (a worker answers nothing before its warm-up is done, as a load balancer's
health check would see), then time the first hook call, the second, `--calls` more with the same
body, and `--calls` more each for a patient the worker has not seen (the same record under another
patient id: strict FHIR validation and a few lookups are cached per resource, so a patient's first
call costs a little more than its repeats on any worker). Then stop it and start a new one, `--starts`
times. One worker per start, so that "first call" is unambiguously the first call that worker answered.

Prints each start and the medians over the starts, and writes bench/results/cold-workers.json. The
target is about first call / steady p50 (<= 2), against both steady states: the same body repeated
(the first call is also that patient's first) and a new patient each call (like for like).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
# `python bench/cold_workers.py` puts bench/ first on sys.path; import it as the package `bench` instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench.records import request_body  # noqa: E402
from bench.server import Gunicorn, running  # noqa: E402

RESULTS = REPO / "bench" / "results"
SCENARIOS = {  # name -> (service id, sample id, resources, draft orders)
    "pv-50": ("net-patient-view", "net-si-progressing-on-ssa", 50, False),
    "os-ppi": ("net-order-sign", "net-pnet-gastrinoma", 50, True),
    "os-ssa": ("net-order-sign", "net-pnet-insulinoma", 50, True),
}
ENV = {"NET_CDS_FEEDBACK_DB": str(RESULTS / "cold-feedback.sqlite3"), "NET_CDS_LOG_LEVEL": "WARNING"}


def _timed_post(client: httpx.Client, url: str, body: bytes) -> float:
    start = time.perf_counter()
    response = client.post(url, content=body, headers={"Content-Type": "application/json"})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return elapsed


def _as_patient(body: bytes, sample_id: str, number: int) -> bytes:
    """The same request for another patient: the sample id, in every id and reference, renamed."""
    return body.replace(sample_id.encode(), f"{sample_id}-n{number:04d}".encode())


def one_start(service_id: str, sample_id: str, body: bytes, calls: int) -> dict[str, float]:
    """A fresh one-worker gunicorn: its first and second hook call and two steady states (p50), ms."""
    first_body = _as_patient(body, sample_id, 0)
    others = [_as_patient(body, sample_id, n) for n in range(1, calls + 1)]
    with running(Gunicorn(workers=1, env=ENV)) as base, httpx.Client(timeout=60) as client:
        url = f"{base}/cds-services/{service_id}"
        first = _timed_post(client, url, first_body)
        second = _timed_post(client, url, first_body)
        same = [_timed_post(client, url, first_body) for _ in range(calls)]
        new = [_timed_post(client, url, other) for other in others]
    p50_same, p50_new = statistics.median(same), statistics.median(new)
    return {"first_ms": round(first, 2), "second_ms": round(second, 2),
            "steady_p50_ms": round(p50_same, 2), "new_patient_p50_ms": round(p50_new, 2),
            "first_over_p50": round(first / p50_same, 2), "second_over_p50": round(second / p50_same, 2),
            "first_over_new_patient_p50": round(first / p50_new, 2)}


def run(names: list[str], starts: int, calls: int) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    for name in names:
        service_id, sample_id, resources, draft = SCENARIOS[name]
        body = json.dumps(request_body(service_id, sample_id, resources, draft=draft)).encode()
        runs = []
        for number in range(1, starts + 1):
            result = one_start(service_id, sample_id, body, calls)
            runs.append(result)
            print(f"{name} start {number}: first {result['first_ms']:.1f} ms, second {result['second_ms']:.1f} ms, "
                  f"steady p50 {result['steady_p50_ms']:.1f} ms (new patient each call "
                  f"{result['new_patient_p50_ms']:.1f} ms) -> first/p50 {result['first_over_p50']:.2f} "
                  f"({result['first_over_new_patient_p50']:.2f})", flush=True)
        medians = {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
        out[name] = {"runs": runs, "median": medians}
        print(f"{name} median of {starts}: first {medians['first_ms']:.1f} ms, second {medians['second_ms']:.1f} ms, "
              f"steady p50 {medians['steady_p50_ms']:.1f} ms, new-patient p50 {medians['new_patient_p50_ms']:.1f} ms; "
              f"first/p50 {medians['first_over_p50']:.2f}, first/new-patient p50 "
              f"{medians['first_over_new_patient_p50']:.2f}; load average {os.getloadavg()[0]:.1f}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="scenario(s) to run (default: all)")
    parser.add_argument("--starts", type=int, default=5, help="fresh workers per scenario")
    parser.add_argument("--calls", type=int, default=200, help="steady-state calls per worker after the first two")
    args = parser.parse_args()
    results = run(args.scenario or list(SCENARIOS), args.starts, args.calls)
    (RESULTS / "cold-workers.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
