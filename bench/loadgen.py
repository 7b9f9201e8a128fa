"""The load generator: an async httpx client, run as its own process (never inside the server).

    python -m bench.loadgen SPEC.json OUT.json

SPEC: {"url", "body_file", "concurrency", "requests", "duration_s", "warmup_requests", "warmup_s"}.
`concurrency` coroutines share one keep-alive connection pool and POST the same body back to back
(closed loop). A run stops after `requests` measured requests or `duration_s` seconds, whichever
comes first; a warm-up (same concurrency, bounded the same way) runs before and is not measured.
OUT gets each latency (ms, request start to last response byte), status counts, wall time, the
client's own CPU time and the last response body (to check the cards are real).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx


async def _phase(client: httpx.AsyncClient, url: str, body: bytes, concurrency: int, requests: int,
                 duration_s: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    issued = 0
    last_body: bytes = b""
    started = time.perf_counter()
    deadline = started + duration_s

    async def worker() -> None:
        nonlocal issued, last_body
        while issued < requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
                content = response.content
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}")
            last_body = content

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"latencies_ms": latencies, "statuses": statuses, "errors": errors, "wall_s": wall,
            "last_body": last_body.decode("utf-8", "replace")}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then measure; returns the measured phase's raw results."""
    body = Path(spec["body_file"]).read_bytes()
    concurrency = int(spec["concurrency"])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(float(spec.get("timeout_s", 30)))
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await _phase(client, spec["url"], body, concurrency, int(spec.get("warmup_requests", 0)),
                     float(spec.get("warmup_s", 0)))
        cpu0 = time.process_time()
        result = await _phase(client, spec["url"], body, concurrency, int(spec["requests"]),
                              float(spec["duration_s"]))
        result["client_cpu_s"] = time.process_time() - cpu0
    result["concurrency"] = concurrency
    return result


def main(argv: list[str]) -> int:
    spec_file, out_file = argv
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result = asyncio.run(run(spec))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
