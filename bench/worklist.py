"""The worklist's throughput and memory: `net-cds worklist` on an export, measured from outside.

    .venv/bin/python tools/make_bulk_export.py /work/bulk-data/p10k --patients 10000
    .venv/bin/python bench/worklist.py /work/bulk-data/p10k [--engine spark] [--no-prefilter] [--workers 2]

Runs the command as a separate process and samples the whole process tree's resident memory (the sum of
VmRSS over the command and its workers, JVM included) every 0.1 s; CPU time is the tree's user+system
time (the command's and its children's rusage). Prints one JSON line: patients in the export, rows
written, wall seconds, CPU seconds, patients per second and per CPU-second (export patients, end to end:
pre-filter, partition, evaluation, writing), peak memory in MB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tree_rss_kb(root: int) -> int:
    """VmRSS summed over `root` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, parent = int(entry.name), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def _export_patients(bulk: Path) -> int:
    files = sorted(bulk.glob("Patient*.ndjson*"))
    count = 0
    for path in files:
        with (gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")) as handle:
            count += sum(1 for line in handle if line.strip())
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bulk", type=Path)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-prefilter", action="store_true")
    parser.add_argument("--out-suffix", default=".parquet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="net-cds-bench-") as tmp:
        out = Path(tmp) / f"worklist{args.out_suffix}"
        command = [str(REPO / ".venv" / "bin" / "net-cds"), "worklist", "--bulk", str(args.bulk), "--out", str(out),
                   "--engine", args.engine, "--workers", str(args.workers), "--quiet",
                   *(["--no-prefilter"] if args.no_prefilter else [])]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.1)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stdout, stderr = process.communicate()
        if process.returncode not in (0, 1):
            print(stderr[-2000:], file=sys.stderr)
            return process.returncode
        audit = json.loads(out.with_name("worklist.audit.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    patients = _export_patients(args.bulk)
    print(json.dumps({
        "export": str(args.bulk), "engine": args.engine, "workers": args.workers, "prefilter": not args.no_prefilter,
        "export_patients": patients, "rows": audit["patients"], "errors": audit["errors"],
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "patients_per_s": round(patients / wall),
        "patients_per_cpu_s": round(patients / cpu), "peak_mb": round(peak / 1024),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
