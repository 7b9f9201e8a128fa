"""Same chart, same answer: profiles and cards do not depend on the process's hash seed.

gunicorn workers are separate processes with their own string-hash seeds; an informatics team that
replays a chart must get the same cards, facts and notes in the same order from any of them. Every
vignette and sample runs in two fresh interpreters with different PYTHONHASHSEEDs; the results (the
uuids of cards and suggestions aside, which are new for every answer) must be identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.vignettes.vignette_support import ROOT, all_inputs

SCRIPT = """
import hashlib, json, re, sys
from tests.vignettes.vignette_support import all_inputs, run
UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
out = {}
for inp in all_inputs():
    outcome = run(inp)
    cards = UUID.sub("<uuid>", json.dumps(outcome.cards, sort_keys=False, default=str))  # fresh per answer
    text = repr(outcome.profile) + cards
    out[inp.id] = hashlib.sha256(text.encode()).hexdigest()
json.dump(out, sys.stdout)
"""


def _digests(seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_profiles_and_cards_do_not_depend_on_the_hash_seed():
    first, second = _digests("1"), _digests("4242")
    assert len(first) == len(all_inputs()) > 100
    differing = sorted(k for k in first if first[k] != second.get(k))
    assert not differing, f"outputs depend on the hash seed: {differing}"
