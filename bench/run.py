"""Run the NET-CDS benchmark suite and rewrite the figures in BENCHMARKS.md.

    .venv/bin/python bench/run.py                    # every scenario (about 5 minutes)
    .venv/bin/python bench/run.py --scenario pv-500  # one scenario (others keep their last figures)
    .venv/bin/python bench/run.py --quick            # short runs, to check the harness

Per scenario: gunicorn (2 workers) on a free 127.0.0.1 port, the load generator (bench/loadgen.py, an
async httpx client) in its own process at concurrency 1 and 8, each run bounded in requests and time
after a warm-up; then the in-process breakdown. Raw results go to bench/results/ (not committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
# `python bench/run.py` puts bench/ first on sys.path; import it as the package `bench` instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench import fhirserver as fhir  # noqa: E402
from bench import report  # noqa: E402
from bench.cpu_probe import cpu_capacity  # noqa: E402
from bench.records import padded_bundle, request_body  # noqa: E402
from bench.server import Gunicorn, running  # noqa: E402
from bench.stats import overhead_summary, summarize  # noqa: E402
from cds_service.config import Settings  # noqa: E402
from cds_service.services.registry import load_services  # noqa: E402
from cds_service.tiny_ehr import hook_request  # noqa: E402

RESULTS = REPO / "bench" / "results"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
CONCURRENCY = (1, 8)
FALLBACK_PAGE_SIZE = Settings().fhir_page_size
# The service as a development deployment runs it (auth off), with its feedback database out of var/.
BENCH_ENV = {"NET_CDS_FEEDBACK_DB": str(RESULTS / "feedback.sqlite3"), "NET_CDS_LOG_LEVEL": "WARNING"}
# Diagnostic variants (--variant): the same scenarios with one thing changed; rows get the variant's tag.
VARIANTS = {
    "fb-tmpfs": ("feedback database on tmpfs (/dev/shm: no fsync), i.e. what a request costs once recording "
                 "the issued cards is cheap", {"NET_CDS_FEEDBACK_DB": "/dev/shm/net-cds-bench-feedback.sqlite3"}),
}


@dataclass(frozen=True)
class Scenario:
    """One benchmark scenario: which service, which patient, how big a record, how the data arrives."""

    name: str
    title: str
    service_id: str
    sample_id: str
    resources: int
    draft: bool = False
    fallback: bool = False
    duration_s: float = 10.0
    max_requests: int = 3000
    breakdown_iterations: int = 100


SCENARIOS = {s.name: s for s in (
    Scenario("pv-50", "patient-view, full prefetch, 50 resources", "net-patient-view",
             "net-si-progressing-on-ssa", 50),
    Scenario("pv-500", "patient-view, full prefetch, 500 resources", "net-patient-view",
             "net-si-progressing-on-ssa", 500),
    Scenario("pv-5000", "patient-view, full prefetch, 5,000 resources", "net-patient-view",
             "net-si-progressing-on-ssa", 5000, duration_s=20.0, breakdown_iterations=20),
    Scenario("os-ppi", "order-sign, draft omeprazole (PPI), 50-resource prefetch", "net-order-sign",
             "net-pnet-gastrinoma", 50, draft=True),
    Scenario("os-ssa", "order-sign, draft octreotide (SSA), 50-resource prefetch", "net-order-sign",
             "net-pnet-insulinoma", 50, draft=True),
    Scenario("pv-fallback", "patient-view, no prefetch: 12 fallback requests (13 keys) to sekmet-fhir, 50 resources",
             "net-patient-view", "net-si-progressing-on-ssa", 50, fallback=True, breakdown_iterations=50),
)}


def wait_for_quiet(limit: float = 1.0, patience_s: float = 90.0) -> float:
    """Wait (at most `patience_s`) until the 1-minute load average is below `limit`; returns it.

    Other work on this 2-core machine skews every figure; results record the load average seen.
    """
    deadline = time.monotonic() + patience_s
    load = os.getloadavg()[0]
    while load >= limit and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit}


def cold_request(url: str, body: bytes) -> float:
    """Milliseconds for the first hook call a freshly started worker answers (lazy imports included)."""
    t = time.perf_counter()
    response = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=60)
    elapsed = (time.perf_counter() - t) * 1000
    print(f"   first request after start: {elapsed:.0f} ms (HTTP {response.status_code})", flush=True)
    return elapsed


CLIENT = {"name": "raw"}  # set from --client
CLIENT_LABELS = {"raw": "asyncio HTTP/1.1 client, keep-alive", "httpx": "httpx.AsyncClient, keep-alive"}


def load_run(url: str, body_file: Path, concurrency: int, scenario: Scenario, quick: bool) -> dict[str, Any]:
    """One bounded load-generator run, in its own process."""
    spec = {"url": url, "body_file": str(body_file), "concurrency": concurrency, "client": CLIENT["name"],
            "requests": 200 if quick else scenario.max_requests, "duration_s": 3.0 if quick else scenario.duration_s,
            "warmup_requests": 10 if quick else 40, "warmup_s": 2.0 if quick else 4.0}
    probe = cpu_capacity()  # what the 2 vCPUs give right now, and how fast one is (bench/cpu_probe.py)
    with tempfile.TemporaryDirectory(prefix="net-cds-bench-") as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "bench.loadgen", str(spec_file), str(out_file)], cwd=REPO,
                       check=True, timeout=spec["duration_s"] + spec["warmup_s"] + 120)
        raw = json.loads(out_file.read_text(encoding="utf-8"))
    try:
        cards = len(json.loads(raw["last_body"]).get("cards", []))
    except (ValueError, AttributeError):
        cards = None
    return {"concurrency": concurrency, "bounds": {k: spec[k] for k in ("requests", "duration_s")},
            "summary": summarize(raw["latencies_ms"], raw["wall_s"], len(raw["errors"])),
            "service_added": overhead_summary(raw["latencies_ms"], raw.get("fhir_slowest_ms") or
                                              [None] * len(raw["latencies_ms"])),
            "statuses": raw["statuses"], "client_cpu_s": raw["client_cpu_s"], "cards": cards,
            "error_kinds": sorted(set(raw["errors"]))[:5], "load_average_after": round(os.getloadavg()[0], 2),
            "cpu_capacity_before": probe["capacity"], "cpu_loop_alone_s": probe["alone_s"]}


def run_scenario(scenario: Scenario, quick: bool, gunicorn: Gunicorn, fhir_server: str = "sekmet") -> dict[str, Any]:
    load_before = wait_for_quiet(patience_s=5 if quick else 90)
    title = scenario.title.replace("sekmet-fhir", fhir.LOCAL_SERVERS[fhir_server].label)
    print(f"== {scenario.name}: {title} (load average {load_before:.2f})", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    body_file = RESULTS / f"body-{scenario.name}.json"
    out: dict[str, Any] = {"title": scenario.title, "resources": scenario.resources,
                           "load_average_before": round(load_before, 2)}
    iterations = 10 if quick else scenario.breakdown_iterations
    if scenario.fallback:
        return run_fallback(scenario, quick, gunicorn, body_file, out, iterations, fhir_server)
    body = request_body(scenario.service_id, scenario.sample_id, scenario.resources, draft=scenario.draft)
    raw = json.dumps(body).encode()
    body_file.write_bytes(raw)
    out["body_bytes"] = len(raw)
    with running(gunicorn) as base:
        url = f"{base}/cds-services/{scenario.service_id}"
        out["cold_ms"] = cold_request(url, raw)
        out["load"] = [load_run(url, body_file, c, scenario, quick) for c in CONCURRENCY]
    _print_load(out["load"])
    del body, raw
    out["breakdown"] = _breakdown(body_file, scenario.service_id, iterations)
    return out


def run_fallback(scenario: Scenario, quick: bool, gunicorn: Gunicorn, body_file: Path, out: dict[str, Any],
                 iterations: int, fhir_server: str = "sekmet") -> dict[str, Any]:
    reason = fhir.available(fhir_server)
    if reason:
        print(f"   skipped: {reason}", flush=True)
        out["skipped"] = reason
        return out
    service = load_services()[scenario.service_id]
    with fhir.local_server(fhir_server, RESULTS / f"{fhir_server}.log") as server:
        out["title"] = scenario.title.replace("sekmet-fhir", server.name)
        bundle = padded_bundle(scenario.sample_id, scenario.resources, service)
        loaded = fhir.load(server, bundle, scenario.sample_id)
        body = hook_request(service, scenario.sample_id, fhir_server=server.base_url, access_token=server.token)
        raw = json.dumps(body).encode()
        body_file.write_bytes(raw)
        out["body_bytes"] = len(raw)
        config = Gunicorn(**{**gunicorn.__dict__, "env": {**gunicorn.env,
                                                           "NET_CDS_ALLOWED_FHIR_SERVERS": server.base_url}})
        paths = fhir.query_paths(service, scenario.sample_id, FALLBACK_PAGE_SIZE)
        settings = Settings.from_env().with_overrides(allowed_fhir_servers=(server.base_url,))
        # A JVM server (HAPI) compiles its search path during its first few hundred requests: warm it as a
        # server in use is, so that the hook and the direct timings below both meet a warm server.
        fhir.time_parallel_burst(server, paths, settings.fhir_workers, rounds=20 if quick else 200)
        with running(config) as base:
            url = f"{base}/cds-services/{scenario.service_id}"
            out["cold_ms"] = cold_request(url, raw)
            out["load"] = [load_run(url, body_file, c, scenario, quick) for c in CONCURRENCY]
        _print_load(out["load"])
        rounds = 10 if quick else 50
        out["fallback"] = {
            "server": server.name, "loaded": loaded, "page_size": FALLBACK_PAGE_SIZE,
            "workers": settings.fhir_workers, "queries": fhir.time_queries(server, paths, rounds),
            "burst": fhir.time_parallel_burst(server, paths, settings.fhir_workers, rounds)}
        out["breakdown"] = _breakdown(body_file, scenario.service_id, iterations, server.base_url)
    return out


def _breakdown(body_file: Path, service_id: str, iterations: int,
               allowed_fhir_server: str | None = None) -> dict | None:
    """The in-process breakdown, run in a fresh process (a clean heap, like a gunicorn worker's)."""
    with tempfile.TemporaryDirectory(prefix="net-cds-bench-") as tmp:
        out_file = Path(tmp) / "breakdown.json"
        cmd = [sys.executable, "-m", "bench.breakdown", str(body_file), service_id, str(iterations), str(out_file)]
        done = subprocess.run(cmd + ([allowed_fhir_server] if allowed_fhir_server else []), cwd=REPO,
                              env={**os.environ, **BENCH_ENV}, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            print(f"   breakdown failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
            return None
        result = json.loads(out_file.read_text(encoding="utf-8"))
    steps = "  ".join(f"{k}={v['p50_ms']:.2f}" for k, v in result["steps"].items())
    print(f"   breakdown p50 ms: {steps}  | sum={result['sum_p50_ms']:.1f} wsgi={result['wsgi']['p50_ms']:.1f}",
          flush=True)
    return result


def _print_load(runs: list[dict[str, Any]]) -> None:
    for r in runs:
        s = r["summary"]
        print(f"   c={r['concurrency']:<2} n={s['requests']:<5} p50={s['p50_ms']:.1f} p95={s['p95_ms']:.1f} "
              f"p99={s['p99_ms']:.1f} ms  {s['rps']:.0f} req/s  errors={s['errors']} cards={r['cards']}", flush=True)


def _c(scenario: dict[str, Any] | None, concurrency: int) -> dict[str, Any] | None:
    for run in (scenario or {}).get("load", []):
        if run["concurrency"] == concurrency:
            return run["summary"]
    return None


def _added(scenario: dict[str, Any] | None, concurrency: int) -> dict[str, Any] | None:
    for run in (scenario or {}).get("load", []):
        if run["concurrency"] == concurrency:
            return run.get("service_added")
    return None


def evaluate_targets(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, checked against the figures (p99 at concurrency 1, throughput at 8)."""
    targets = []

    def add(target: str, summary: dict | None, key: str, limit: float, above: bool = False) -> None:
        if summary is None:
            targets.append({"target": target, "measured": "not run", "met": False})
            return
        value = summary[key]
        met = value >= limit if above else value < limit
        unit = "req/s" if key == "rps" else "ms"
        targets.append({"target": target, "measured": f"{value:.1f} {unit}", "met": met})

    add("patient-view 500: p99 < 50 ms (c=1)", _c(scenarios.get("pv-500"), 1), "p99_ms", 50)
    add("patient-view 500: ≥ 200 req/s (c=8)", _c(scenarios.get("pv-500"), 8), "rps", 200, above=True)
    run8 = next((r for r in (scenarios.get("pv-500") or {}).get("load", []) if r["concurrency"] == 8), {})
    if run8.get("cpu_capacity_before") is not None and targets[-1]["measured"] != "not run":
        targets[-1]["measured"] += (f" (CPU capacity {run8['cpu_capacity_before']:.2f}×, probe loop "
                                    f"{run8.get('cpu_loop_alone_s', float('nan')):.2f} s, before the run)")
    add("patient-view 5,000: p99 < 300 ms (c=1)", _c(scenarios.get("pv-5000"), 1), "p99_ms", 300)
    add("order-sign PPI: p99 < 30 ms (c=1)", _c(scenarios.get("os-ppi"), 1), "p99_ms", 30)
    add("order-sign SSA: p99 < 30 ms (c=1)", _c(scenarios.get("os-ssa"), 1), "p99_ms", 30)
    _fallback_targets(scenarios.get("pv-fallback") or {}, "", targets)
    if "pv-fallback [hapi]" in scenarios:
        _fallback_targets(scenarios["pv-fallback [hapi]"], " [hapi]", targets)
    return targets


def _fallback_targets(fallback: dict[str, Any], tag: str, targets: list[dict[str, Any]]) -> None:
    """The fallback scenario's targets against one FHIR server (tag: '' for sekmet, ' [hapi]' for HAPI)."""
    hook = _c(fallback, 1)
    direct = fallback.get("fallback")
    if hook and direct:
        slowest_key, slowest = max(direct["queries"].items(), key=lambda kv: kv[1]["p50_ms"])
        for pct in ("p50", "p95"):
            limit = max(q[f"{pct}_ms"] for q in direct["queries"].values()) + 20
            targets.append({"target": f"fallback{tag}: hook {pct} ≤ slowest single query alone {pct} + 20 ms (c=1)",
                            "measured": f"hook {hook[f'{pct}_ms']:.1f} ms vs limit {limit:.1f} ms "
                                        f"(slowest: {slowest_key})",
                            "met": hook[f"{pct}_ms"] <= limit})
        added = _added(fallback, 1)
        if added:
            for pct in ("p50", "p95", "p99"):
                targets.append({"target": f"fallback{tag}: hook − its slowest FHIR request ≤ 20 ms, {pct} "
                                           "(c=1, per call)",
                                "measured": f"{added[f'{pct}_ms']:.1f} ms (slowest request p50 "
                                            f"{added['fhir_slowest_p50_ms']:.1f} ms in the call)",
                                "met": added[f"{pct}_ms"] <= 20})
        direct["verdict"] = (
            f"Hook at concurrency 1: p50 {hook['p50_ms']:.1f} ms, p95 {hook['p95_ms']:.1f} ms. Slowest single "
            f"query alone ({slowest_key}) p50 {slowest['p50_ms']:.1f} ms; all requests fired in parallel directly "
            f"p50 {direct['burst']['p50_ms']:.1f} ms."
            + (f" Inside the hook (Server-Timing), the slowest FHIR request of each call took p50 "
               f"{added['fhir_slowest_p50_ms']:.1f} ms / p95 {added['fhir_slowest_p95_ms']:.1f} ms, and the service "
               f"added p50 {added['p50_ms']:.1f} / p95 {added['p95_ms']:.1f} / p99 {added['p99_ms']:.1f} ms to it."
               if added else ""))
    else:
        targets.append({"target": f"fallback{tag}: ≤ slowest single query + 20 ms", "measured": "not run",
                        "met": False})




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="run only this scenario (repeatable); the others keep their last figures")
    parser.add_argument("--quick", action="store_true", help="short runs (harness check; figures are rough)")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    parser.add_argument("--client", default="raw", choices=("raw", "httpx"),
                        help="load generator client: raw asyncio HTTP/1.1 (lean, default) or httpx.AsyncClient")
    parser.add_argument("--variant", choices=sorted(VARIANTS),
                        help="diagnostic variant; its rows are added next to the normal ones, tagged [NAME]")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument("--fhir-server", default="sekmet", choices=sorted(fhir.LOCAL_SERVERS),
                        help="the local FHIR server of the fallback scenario; rows for hapi are tagged [hapi]")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn and the FHIR server on the way out
    if args.variant:
        BENCH_ENV.update(VARIANTS[args.variant][1])
    CLIENT["name"] = args.client
    gunicorn = Gunicorn(workers=2, worker_class=args.worker_class, threads=args.threads,
                        log_file=RESULTS / "gunicorn.log", env=BENCH_ENV)
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest_file = RESULTS / "latest.json"
    previous = json.loads(latest_file.read_text(encoding="utf-8")) if latest_file.exists() else {}
    names = args.scenario or list(SCENARIOS)
    # A partial run keeps the other rows of the last results.
    keep = args.scenario or args.variant or args.fhir_server != "sekmet"
    scenarios = dict(previous.get("scenarios", {})) if keep else {}
    for name in names:
        tag = f" [{args.variant}]" if args.variant else ""
        if SCENARIOS[name].fallback and args.fhir_server != "sekmet":
            tag += f" [{args.fhir_server}]"
        scenarios[name + tag] = run_scenario(SCENARIOS[name], args.quick, gunicorn, args.fhir_server)
        if args.variant:
            scenarios[name + tag]["variant"] = VARIANTS[args.variant][0]
    tags = ("", " [hapi]", *(f" [{v}]" for v in VARIANTS))
    order = [n + t for n in SCENARIOS for t in tags]
    scenarios = {n: scenarios[n] for n in order if n in scenarios}
    stamp = dt.datetime.now(dt.UTC)
    results = {"date": stamp.strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick, "machine": machine(),
               "server": gunicorn.describe(), "client": f"bench/loadgen.py ({CLIENT_LABELS[args.client]})",
               "scenarios": scenarios}
    results["targets"] = evaluate_targets(scenarios)
    text = json.dumps(results, indent=1)
    (RESULTS / f"run-{stamp.strftime('%Y%m%dT%H%M%SZ')}.json").write_text(text, encoding="utf-8")
    latest_file.write_text(text, encoding="utf-8")
    if args.variant == "fb-tmpfs":
        for leftover in Path("/dev/shm").glob("net-cds-bench-feedback.sqlite3*"):
            leftover.unlink()
    print("\n" + report.targets_table(results))
    if not args.no_markdown:
        report.write_benchmarks_md(BENCHMARKS_MD, results)
        print(f"\nwrote {BENCHMARKS_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
