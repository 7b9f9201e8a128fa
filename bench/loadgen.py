"""The load generator: an asyncio HTTP client, run as its own process (never inside the server).

    python -m bench.loadgen SPEC.json OUT.json

SPEC: {"url", "body_file", "concurrency", "requests", "duration_s", "warmup_requests", "warmup_s",
"client": "raw" | "httpx"}. `concurrency` coroutines each hold one keep-alive connection and POST the
same body back to back (closed loop). The default "raw" client writes a prebuilt HTTP/1.1 request on
an asyncio stream and reads the response by Content-Length (reconnecting when the server closes,
as gunicorn's sync workers do): it costs the shared 2 cores under 1 ms per request, where httpx costs
~3 ms, which would otherwise be taken from the server's throughput. "httpx" uses httpx.AsyncClient.
A run stops after `requests` measured requests or `duration_s` seconds, whichever
comes first; a warm-up (same concurrency, bounded the same way) runs before and is not measured.
OUT gets each latency (ms, request start to last response byte), the slowest FHIR request the service
reported for it (`Server-Timing: fhir-slowest`, fallback calls only), status counts, wall time, the
client's own CPU time and the last response body (to check the cards are real).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from cds_service.web.server_timing import parse_server_timing


class RawConnection:
    """One HTTP/1.1 connection to the server: send a prebuilt POST, read one response."""

    def __init__(self, url: str, body: bytes) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        head = (f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
        self.request = head.encode() + body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self) -> tuple[int, bytes, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        content = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, content, headers.get("server-timing", "")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class HttpxConnection:
    """The same interface over a shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient, url: str, body: bytes) -> None:
        self.client, self.url, self.body = client, url, body

    async def post(self) -> tuple[int, bytes, str]:
        response = await self.client.post(self.url, content=self.body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content, response.headers.get("server-timing", "")

    async def close(self) -> None:
        return None


async def _phase(connections: list, concurrency: int, requests: int, duration_s: float) -> dict[str, Any]:
    latencies: list[float] = []
    slowest_fhir: list[float | None] = []  # per request, the service's own `fhir-slowest` (Server-Timing)
    statuses: dict[str, int] = {}
    errors: list[str] = []
    issued = 0
    last_body: bytes = b""
    started = time.perf_counter()
    deadline = started + duration_s

    async def worker(connection: RawConnection | HttpxConnection) -> None:
        nonlocal issued, last_body
        while issued < requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                status, content, timing = await connection.post()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    httpx.HTTPError) as exc:
                errors.append(type(exc).__name__)
                await connection.close()
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            slowest_fhir.append(parse_server_timing(timing).get("fhir-slowest") if timing else None)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status != 200:
                errors.append(f"HTTP {status}")
            last_body = content

    await asyncio.gather(*(worker(c) for c in connections[:concurrency]))
    wall = time.perf_counter() - started
    return {"latencies_ms": latencies, "fhir_slowest_ms": slowest_fhir, "statuses": statuses, "errors": errors,
            "wall_s": wall, "last_body": last_body.decode("utf-8", "replace")}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then measure; returns the measured phase's raw results."""
    body = Path(spec["body_file"]).read_bytes()
    concurrency = int(spec["concurrency"])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(float(spec.get("timeout_s", 30)))) as client:
        if spec.get("client", "raw") == "httpx":
            connections: list = [HttpxConnection(client, spec["url"], body) for _ in range(concurrency)]
        else:
            connections = [RawConnection(spec["url"], body) for _ in range(concurrency)]
        await _phase(connections, concurrency, int(spec.get("warmup_requests", 0)), float(spec.get("warmup_s", 0)))
        cpu0 = time.process_time()
        result = await _phase(connections, concurrency, int(spec["requests"]), float(spec["duration_s"]))
        result["client_cpu_s"] = time.process_time() - cpu0
        for connection in connections:
            await connection.close()
    result["concurrency"] = concurrency
    result["client"] = spec.get("client", "raw")
    return result


def main(argv: list[str]) -> int:
    spec_file, out_file = argv
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result = asyncio.run(run(spec))
    Path(out_file).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
