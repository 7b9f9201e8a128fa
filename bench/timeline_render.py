"""Benchmark: the server time to make the timeline page of a ~500-resource patient (issue 17).

The record is a sample padded to N resources by bench/records.py (years of routine labs, CgA among
them, unrelated conditions, drugs, procedures, reports). Each iteration parses the Bundle's JSON anew
and runs what /app/sample and /app/timeline run after the FHIR data is in: build_profile, rules.explain,
build_timeline, the chart and the Jinja page. Target: median < 300 ms; the page must stay < 500 KB.
Run: .venv/bin/python bench/timeline_render.py [--resources 500] [--iterations 50] [--sample ID]
Never asserted in tests (tests assert the page size only: it is deterministic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.records import padded_bundle  # noqa: E402
from cds_service.commands.explain import record_from_bundles  # noqa: E402
from cds_service.fhir.record import PatientRecord  # noqa: E402
from cds_service.samples import sample_set_as_of  # noqa: E402
from cds_service.services.registry import load_services  # noqa: E402
from cds_service.timeline.render import timeline_page  # noqa: E402

SAMPLE = "net-si-after-prrt-early"  # SSA, six PRRT doses, progression: the busiest timeline
CSS = "/app/static/timeline.css"


def padded_json(total: int, sample_id: str = SAMPLE) -> str:
    return json.dumps(padded_bundle(sample_id, total, load_services()["net-patient-view"]))


def padded_record(total: int, sample_id: str = SAMPLE, raw: str | None = None) -> PatientRecord:
    record = record_from_bundles(json.loads(raw or padded_json(total, sample_id)))
    record.as_of = sample_set_as_of()
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--sample", default=SAMPLE)
    args = parser.parse_args()
    raw = padded_json(args.resources, args.sample)
    page = timeline_page(padded_record(args.resources, args.sample, raw), CSS)  # warm-up: imports, templates
    times = []
    for _ in range(args.iterations):
        started = time.perf_counter()
        page = timeline_page(padded_record(args.resources, args.sample, raw), CSS)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    resources = len(json.loads(raw)["entry"])
    print(f"timeline page, {args.sample} padded to {resources} bundle entries, {args.iterations} iterations: "
          f"median {statistics.median(times):.1f} ms, p90 {times[int(0.9 * (len(times) - 1))]:.1f} ms, "
          f"max {times[-1]:.1f} ms; page {len(page.encode()) / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
