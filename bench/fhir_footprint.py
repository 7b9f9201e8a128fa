"""Benchmark: a local test FHIR server's start time and memory at rest, empty and with every sample loaded.

    .venv/bin/python bench/fhir_footprint.py                     # HAPI FHIR, 3 starts
    .venv/bin/python bench/fhir_footprint.py --server sekmet --starts 1 --settle 5

Per start: launch the server as the integration suite and `bench/run.py` do (tests/integration/servers/serve,
a free loopback port, a bearer token), time until GET /metadata answers 200, wait `--settle` seconds with no
request and read the server process's resident memory (VmRSS; `serve` execs the server, so its process is
the server); then load every sample patient (`net-cds samples load`'s transaction of PUTs, one per
sample, in index order), time that, wait again and read the memory again. A sample the server refuses is
counted, not fatal (the figures say how many loaded). Prints one JSON line per start and the medians, and
writes bench/results/fhir-footprint-<server>.json.

Why: HAPI is a JVM (JPA, Hibernate, H2 in memory) that takes tens of seconds to start; what it costs a CI
run and a developer's machine should be a figure, not a guess (issue 18).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# `python bench/fhir_footprint.py` puts bench/ first on sys.path; import it as the package `bench` instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench import fhirserver as fhir  # noqa: E402
from cds_service.fhir.upload import UploadError, upload_bundle  # noqa: E402
from cds_service.samples import list_samples  # noqa: E402

RESULTS = REPO / "bench" / "results"


def rss_mib(pid: int) -> float:
    """The process's resident set size now (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def load_samples(server: fhir.FhirServer) -> tuple[int, int, int]:
    """Every sample as one transaction each; returns (patients loaded, refused, resources loaded)."""
    loaded = refused = resources = 0
    with requests.Session() as session:
        for sample in list_samples():
            try:
                result = upload_bundle(server.base_url, sample.bundle(), sample.id, token=server.token,
                                       timeout=300, session=session)
            except UploadError:
                refused += 1
                continue
            loaded += 1
            resources += len(result.references)
    return loaded, refused, resources


def one_start(name: str, settle_s: float) -> dict[str, Any]:
    with fhir.local_server(name, RESULTS / f"footprint-{name}.log") as server:
        time.sleep(settle_s)
        rss_started = rss_mib(server.pid)
        t = time.perf_counter()
        loaded, refused, resources = load_samples(server)
        load_s = time.perf_counter() - t
        time.sleep(settle_s)
        rss_loaded = rss_mib(server.pid)
    return {"start_s": round(server.start_s, 1), "rss_after_start_mib": round(rss_started, 1),
            "samples_load_s": round(load_s, 1), "samples_loaded": loaded, "samples_refused": refused,
            "resources_loaded": resources, "rss_after_load_mib": round(rss_loaded, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="hapi", choices=sorted(fhir.LOCAL_SERVERS))
    parser.add_argument("--starts", type=int, default=3, help="fresh server starts (medians over them)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds at rest before each memory reading")
    args = parser.parse_args(argv)
    reason = fhir.available(args.server)
    if reason:
        print(f"skipped: {reason}")
        return 1
    runs = []
    for _ in range(args.starts):
        runs.append(one_start(args.server, args.settle))
        print(json.dumps(runs[-1]), flush=True)
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    result = {"server": fhir.LOCAL_SERVERS[args.server].label, "settle_s": args.settle, "runs": runs,
              "medians": medians}
    print("medians:", json.dumps(medians))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"fhir-footprint-{args.server}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
