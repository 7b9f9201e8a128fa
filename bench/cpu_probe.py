"""How much parallel CPU this machine really gives: the same pure-Python loop alone and in N processes.

`nproc` says 2 here, but the throughput a 2-worker server can reach depends on whether the two vCPUs
run at full speed together (two cores) or share one physical core (SMT siblings, a CPU quota, a busy
host). capacity = N x (time alone) / (time of each when N run at once): 2.0 for two real cores, ~1.0 when
two processes share one core's worth of compute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

_LOOP = "import time\nt=time.perf_counter()\nx=0\nfor i in range({n}): x+=i\nprint(time.perf_counter()-t)"


def _timed(processes: int, iterations: int) -> float:
    """Median of the per-process wall times when `processes` copies of the loop run at once."""
    code = _LOOP.format(n=iterations)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    times = sorted(float(p.communicate(timeout=120)[0]) for p in procs)
    return times[len(times) // 2]


def cpu_capacity(processes: int | None = None, iterations: int = 8_000_000) -> dict[str, float]:
    """{'alone_s', 'together_s', 'processes', 'capacity'}; alone and together interleaved, best of two."""
    n = processes or os.cpu_count() or 1
    alone, together = [], []
    for _ in range(2):
        alone.append(_timed(1, iterations))
        together.append(_timed(n, iterations))
    a, t = min(alone), min(together)
    return {"processes": n, "alone_s": a, "together_s": t, "capacity": round(n * a / t, 2)}


if __name__ == "__main__":
    started = time.perf_counter()
    print(cpu_capacity(), f"({time.perf_counter() - started:.1f} s)")
