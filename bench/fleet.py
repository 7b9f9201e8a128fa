"""The proxy's cost, and the hooks' p90 as /metrics reports it.

    .venv/bin/python bench/fleet.py            # about 4 minutes
    .venv/bin/python bench/fleet.py --quick    # short runs, to check the harness

Topologies, with the same two sync workers in total on this 2-core machine:
- "gunicorn alone": one gunicorn, 2 workers (as bench/run.py measures it);
- "nginx + 2 replicas": deploy/nginx's files in front of two gunicorn replicas of 1 worker each;
- "nginx + 2 replicas, PostgreSQL": the same, with feedback and issued cards in PostgreSQL.
Each runs pv-500 and os-ppi (bench/run.py's scenarios) with bench/loadgen.py at concurrency 1 and 8.
After each nginx topology, the replicas' /metrics are read and the p90 of each hook is computed from
the histogram buckets summed over the replicas, as Prometheus' histogram_quantile() does.
Raw results: bench/results/fleet-<time>.json. Needs nginx (and PostgreSQL for the third topology):
scripts/bootstrap --test installs them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench.records import request_body  # noqa: E402
from bench.run import BENCH_ENV, RESULTS, SCENARIOS, load_run, machine, wait_for_quiet  # noqa: E402
from bench.server import Gunicorn, running  # noqa: E402
from tests.fleet.topology import Nginx, Replica  # noqa: E402
from tests.postgres_cluster import PostgresCluster  # noqa: E402

SCENARIO_NAMES = ("pv-500", "os-ppi")
CONCURRENCY = (1, 8)


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """The q-quantile of a cumulative histogram {upper bound: count}, interpolated within its bucket."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if not total:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / max(count - lower_count, 1e-12)
        lower_bound, lower_count = bound, count
    return math.nan


def hook_p90_ms(replica_urls: list[str]) -> dict[str, dict[str, float]]:
    """Per service: p50/p90/p99 (ms) and the count, from the replicas' net_cds_hook_duration_seconds."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    pattern = re.compile(r'net_cds_hook_duration_seconds_bucket\{le="([^"]+)",service="([^"]+)"\} (\S+)')
    for url in replica_urls:
        for match in pattern.finditer(httpx.get(url + "/metrics", timeout=10).text):
            buckets[match.group(2)][float(match.group(1))] += float(match.group(3))
    return {service: {"count": b[math.inf], **{f"p{round(q * 100)}_ms": histogram_quantile(q, b) * 1000
                                              for q in (0.5, 0.9, 0.99)}}
            for service, b in buckets.items()}


@contextmanager
def fleet(folder: Path, env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """nginx + two one-worker replicas; yields nginx's base URL and the replicas' URLs."""
    replicas = [Replica(f"replica{i}", folder, {**env, "NET_CDS_LOG_LEVEL": "WARNING"}, workers=1) for i in (1, 2)]
    nginx = Nginx(folder, [f"127.0.0.1:{r.port}" for r in replicas])
    try:
        for replica in replicas:
            replica.start()
        nginx.start()
        yield nginx.url, [r.url for r in replicas]
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()


def measure(base: str, bodies: dict[str, Path], quick: bool) -> dict[str, list[dict]]:
    out = {}
    for name in SCENARIO_NAMES:
        scenario = SCENARIOS[name]
        url = f"{base}/cds-services/{scenario.service_id}"
        out[name] = [load_run(url, bodies[name], c, scenario, quick) for c in CONCURRENCY]
        for run in out[name]:
            s = run["summary"]
            print(f"   {name} c={run['concurrency']}: p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} ms, "
                  f"{s['rps']:.0f} req/s, errors {s['errors']}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL topology")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    bodies = {}
    for name in SCENARIO_NAMES:
        s = SCENARIOS[name]
        bodies[name] = RESULTS / f"body-{name}.json"
        bodies[name].write_bytes(json.dumps(request_body(s.service_id, s.sample_id, s.resources,
                                                         draft=s.draft)).encode())
    results: dict = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                     "quick": args.quick, "topologies": {}}
    folder = Path(tempfile.mkdtemp(prefix="net-cds-bench-fleet-"))
    folder.chmod(0o755)
    try:
        print(f"== gunicorn alone (load average {wait_for_quiet(patience_s=30):.2f})", flush=True)
        with running(Gunicorn(workers=2, env=BENCH_ENV, log_file=RESULTS / "gunicorn.log")) as base:
            results["topologies"]["gunicorn alone (2 workers)"] = {"load": measure(base, bodies, args.quick)}
        print(f"== nginx + 2 replicas (load average {wait_for_quiet(patience_s=30):.2f})", flush=True)
        with fleet(folder, BENCH_ENV) as (base, replicas):
            load = measure(base, bodies, args.quick)
            results["topologies"]["nginx + 2 replicas × 1 worker"] = {"load": load, "metrics": hook_p90_ms(replicas)}
        if not args.no_postgres:
            print(f"== nginx + 2 replicas, PostgreSQL (load average {wait_for_quiet(patience_s=30):.2f})", flush=True)
            cluster = PostgresCluster().init()
            try:
                env = {**BENCH_ENV, "NET_CDS_FEEDBACK_DB": cluster.url}
                with fleet(folder, env) as (base, replicas):
                    load = measure(base, bodies, args.quick)
                    results["topologies"]["nginx + 2 replicas × 1 worker, PostgreSQL"] = {
                        "load": load, "metrics": hook_p90_ms(replicas)}
            finally:
                cluster.destroy()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"fleet-{stamp}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\n" + table(results))
    return 0


def table(results: dict) -> str:
    """Markdown: latency and throughput per topology, then the hooks' percentiles from /metrics."""
    lines = ["| topology | scenario | c | p50 ms | p99 ms | req/s | errors |", "|---|---|---|---|---|---|---|"]
    for topology, data in results["topologies"].items():
        for name, runs in data["load"].items():
            for run in runs:
                s = run["summary"]
                lines.append(f"| {topology} | {name} | {run['concurrency']} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} "
                             f"| {s['rps']:.0f} | {s['errors']} |")
    lines += ["", "| topology | hook (from /metrics) | calls | p50 ms | p90 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for topology, data in results["topologies"].items():
        for service, m in sorted((data.get("metrics") or {}).items()):
            lines.append(f"| {topology} | {service} | {m['count']:.0f} | {m['p50_ms']:.1f} | {m['p90_ms']:.1f} "
                         f"| {m['p99_ms']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
