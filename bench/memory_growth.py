"""Worker memory under distinct large resources: does a worker's RSS stay bounded?

    .venv/bin/python bench/memory_growth.py                  # 300 calls, each with a distinct 1 MiB resource

The shipped deployment (cds_service/gunicorn_conf.py) with one worker and recycling turned off
(NET_CDS_MAX_REQUESTS=0, so that growth is measured rather than reset) on a free 127.0.0.1 port. Each
patient-view call carries the usual prefetch plus, in the Ki-67 Observation behind the grade (a used fact:
it is strictly validated), a distinct note of `--size` bytes. The worker's RSS (/proc/PID/status VmRSS) is
read after `--warmup` calls and after all calls. Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench.server import running  # noqa: E402
from bench.slow_clients import Shipped  # noqa: E402
from tests.security.hook_bodies import full_prefetch, hook_body  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pid(port: int) -> int:
    """The one gunicorn worker: the child of the process listening on `port` (found through /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            children = (proc / "task" / proc.name / "children").read_text().split()
        except OSError:
            continue
        if f"127.0.0.1:{port}".encode() in cmdline and children:
            return int(children[0])
    raise RuntimeError("gunicorn worker not found")


def body(index: int, size: int) -> bytes:
    prefetch = copy.deepcopy(full_prefetch())
    observation = prefetch["pathology"]["entry"][0]["resource"]
    observation["note"] = [{"text": f"call {index}: " + "x" * size}]
    return json.dumps(hook_body(prefetch=prefetch)).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="net-cds-mem-"))
    config = Shipped(workers=1)
    config.env = {"NET_CDS_ENV": "development", "NET_CDS_JTI_DB": "memory", "NET_CDS_MAX_REQUESTS": "0",
                  "NET_CDS_FEEDBACK_DB": str(folder / "feedback.sqlite3"), "NET_CDS_MAX_BODY_BYTES": str(4 * args.size)}
    statuses: dict[int, int] = {}
    with running(config) as base, httpx.Client(timeout=60) as client:
        pid = worker_pid(int(base.rsplit(":", 1)[1]))
        started = time.perf_counter()
        for index in range(args.calls):
            if index == args.warmup:
                after_warmup = rss_kib(pid)
            response = client.post(f"{base}/cds-services/net-patient-view", content=body(index, args.size),
                                   headers={"Content-Type": "application/json"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        final = rss_kib(pid)
        elapsed = time.perf_counter() - started
    growth_mib = (final - after_warmup) / 1024
    print(json.dumps({"calls": args.calls, "resource_bytes": args.size, "statuses": statuses,
                      "worker_rss_after_warmup_mib": round(after_warmup / 1024, 1),
                      "worker_rss_after_all_mib": round(final / 1024, 1), "growth_mib": round(growth_mib, 1),
                      "seconds": round(elapsed, 1)}, indent=2))
    return 0 if growth_mib < 50 and set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
