"""The proxy's cost, and the hooks' p90 as /metrics reports it.

    .venv/bin/python bench/fleet.py            # about 12 minutes (3 rounds)
    .venv/bin/python bench/fleet.py --quick    # short runs, to check the harness

Topologies, with the same two sync workers in total on this 2-core machine:
- "gunicorn alone": one gunicorn, 2 workers (as bench/run.py measures it);
- "nginx + 2 replicas": deploy/nginx's files in front of two gunicorn replicas of 1 worker each;
- "nginx + 2 replicas, PostgreSQL": the same, with feedback and issued cards in PostgreSQL.
All run at once; the load runs take turns (bench/loadgen.py, pv-500 and os-ppi from bench/run.py, at
concurrency 1 and 8, `--rounds` times), so each comparison is made under the same load of the shared
machine. Then the replicas' /metrics are read and the p50/p90/p99 of each hook computed from the
histogram buckets summed over the replicas, as Prometheus' histogram_quantile() does.
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
from contextlib import ExitStack, contextmanager
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
    folder.mkdir(mode=0o755, exist_ok=True)
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


def measure(bases: dict[str, str], bodies: dict[str, Path], quick: bool, rounds: int) -> dict[str, dict]:
    """Paired runs: for each round, scenario and concurrency, every topology in turn (while the others
    idle), so a change in the shared machine's load hits both sides of a comparison alike."""
    out: dict[str, dict] = {topology: {name: [] for name in SCENARIO_NAMES} for topology in bases}
    for round_no in range(1, rounds + 1):
        for name in SCENARIO_NAMES:
            scenario = SCENARIOS[name]
            for concurrency in CONCURRENCY:
                for topology, base in bases.items():
                    run = load_run(f"{base}/cds-services/{scenario.service_id}", bodies[name], concurrency, scenario,
                                   quick)
                    run["round"] = round_no
                    out[topology][name].append(run)
                    s = run["summary"]
                    print(f"   round {round_no} {name} c={concurrency} {topology}: p50 {s['p50_ms']:.1f} "
                          f"p99 {s['p99_ms']:.1f} ms, {s['rps']:.0f} req/s, errors {s['errors']} "
                          f"(CPU capacity {run['cpu_capacity_before']:.2f}x)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (each topology once per round)")
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
                     "quick": args.quick, "rounds": args.rounds, "load_average_before": wait_for_quiet(patience_s=30)}
    folder = Path(tempfile.mkdtemp(prefix="net-cds-bench-fleet-"))
    folder.chmod(0o755)
    cluster = None if args.no_postgres else PostgresCluster().init()
    try:
        with ExitStack() as stack:
            bases = {"gunicorn alone (2 workers)":
                     stack.enter_context(running(Gunicorn(workers=2, env=BENCH_ENV,
                                                          log_file=RESULTS / "gunicorn.log")))}
            plain_base, plain_replicas = stack.enter_context(fleet(folder / "plain", BENCH_ENV))
            bases["nginx + 2 replicas × 1 worker"] = plain_base
            replicas = {"nginx + 2 replicas × 1 worker": plain_replicas}
            if cluster is not None:
                pg_base, pg_replicas = stack.enter_context(
                    fleet(folder / "pg", {**BENCH_ENV, "NET_CDS_FEEDBACK_DB": cluster.url}))
                bases["nginx + 2 replicas × 1 worker, PostgreSQL"] = pg_base
                replicas["nginx + 2 replicas × 1 worker, PostgreSQL"] = pg_replicas
            load = measure(bases, bodies, args.quick, args.rounds)
            results["topologies"] = {t: {"load": load[t], "metrics": hook_p90_ms(replicas[t]) if t in replicas else {}}
                                     for t in bases}
    finally:
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(folder, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"fleet-{stamp}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\n" + table(results))
    return 0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def table(results: dict) -> str:
    """Markdown: per topology the median over rounds of p50, p99 and req/s, and each against gunicorn alone
    (the median of the per-round ratios); then the hooks' percentiles read from /metrics."""
    topologies = list(results["topologies"])
    reference = results["topologies"][topologies[0]]["load"]
    lines = ["| topology | scenario | c | p50 ms | p99 ms | req/s | p50 / alone | p99 / alone | req/s / alone "
             "| errors |", "|---|---|---|---|---|---|---|---|---|---|"]
    for topology in topologies:
        for name, runs in results["topologies"][topology]["load"].items():
            for concurrency in CONCURRENCY:
                mine = [r["summary"] for r in runs if r["concurrency"] == concurrency]
                alone = [r["summary"] for r in reference[name] if r["concurrency"] == concurrency]
                row = {k: _median([m[k] for m in mine]) for k in ("p50_ms", "p99_ms", "rps")}
                ratio = {k: _median([m[k] / a[k] for m, a in zip(mine, alone, strict=True)])
                         for k in ("p50_ms", "p99_ms", "rps")}
                lines.append(f"| {topology} | {name} | {concurrency} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                             f"{row['rps']:.0f} | {ratio['p50_ms']:.2f} | {ratio['p99_ms']:.2f} | {ratio['rps']:.2f} | "
                             f"{sum(m['errors'] for m in mine)} |")
    lines += ["", "| topology | hook (from /metrics) | calls | p50 ms | p90 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for topology in topologies:
        for service, m in sorted((results["topologies"][topology].get("metrics") or {}).items()):
            lines.append(f"| {topology} | {service} | {m['count']:.0f} | {m['p50_ms']:.1f} | {m['p90_ms']:.1f} "
                         f"| {m['p99_ms']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
