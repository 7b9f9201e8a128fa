"""A long, repeatable fuzz run: N generated requests over the families of tests/security/test_fuzz.py,
counting answers by status; a 500 (or a broken rule, e.g. the token sent outside the FHIR base) is a failure.

    .venv/bin/python bench/fuzz_run.py                     # 20,000 requests (about 10-20 minutes here)
    .venv/bin/python bench/fuzz_run.py --requests 2000     # a shorter run
    .venv/bin/python bench/fuzz_run.py --seed 7            # another, equally repeatable, run

The same strategies as the default test run (which makes 150 per family), in-process (Flask test client;
FHIR server answers through `responses`), with a fixed seed so that a run can be repeated exactly, and a
time bound per family (`--max-seconds`). Prints the figures as JSON; exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.security.conftest import Key  # noqa: E402
from tests.security.test_fuzz import FAMILIES, make_apps  # noqa: E402


class _TimeUp(Exception):
    pass


def run_family(name: str, apps: dict, key: Key, count: int, max_seconds: float, run_seed: int) -> dict:
    strategy, send = FAMILIES[name]
    statuses: Counter[int] = Counter()
    failures: list[dict] = []
    started = time.monotonic()

    @seed(run_seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: object) -> None:
        if time.monotonic() - started > max_seconds:
            raise _TimeUp()
        response, broken = send(apps, key, case)
        statuses[response.status_code] += 1
        if response.status_code >= 500 or broken:
            failures.append({"status": response.status_code, "broken": broken, "case": str(case)[:400],
                             "answer": response.get_data(as_text=True)[:300]})

    with contextlib.suppress(_TimeUp):  # the family's time bound: report what ran
        one()
    return {"requests": sum(statuses.values()), "statuses": dict(sorted(statuses.items())),
            "failures": failures[:5], "failure_count": len(failures),
            "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="total, split evenly over the families")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="time bound per family")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    key = Key("ehr-es384", "ES384", ec.generate_private_key(ec.SECP384R1()))
    apps = make_apps(Path(tempfile.mkdtemp(prefix="net-cds-fuzz-")), key)
    per_family = -(-args.requests // len(FAMILIES))
    results = {name: run_family(name, apps, key, per_family, args.max_seconds, args.seed) for name in FAMILIES}
    total = sum(r["requests"] for r in results.values())
    statuses: Counter[int] = Counter()
    for r in results.values():
        statuses.update(r["statuses"])
    failed = sum(r["failure_count"] for r in results.values())
    print(json.dumps({"requests": total, "status_500_or_broken": failed, "statuses": dict(sorted(statuses.items())),
                      "seed": args.seed, "families": results}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
