"""Issue 12's card figures over every sample and vignette, with the service's default settings.

    .venv/bin/python tools/card_metrics.py            # figures as a table
    .venv/bin/python tools/card_metrics.py --json     # as JSON

Cards per patient-view (median, max), order (critical or next step first), next-step detail length
(median, max), longest card, repeated fact lines and internals on cards. The same checks are tests
(tests/test_card_layout.py) where they hold for every answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.card_layout import figures  # noqa: E402
from tests.vignettes.vignette_support import all_inputs, run  # noqa: E402


def answers() -> dict[str, tuple[str, list[dict]]]:
    """{input id: (hook, cards)} for every sample and vignette, default settings (no profile card)."""
    out = {}
    for inp in all_inputs():
        default = inp.expectation and inp.expectation.get("profile_card") and \
            type(inp)(inp.id, inp.bundle, inp.hook, inp.draft, inp.today, {**inp.expectation, "profile_card": False})
        out[inp.id] = (inp.hook, run(default or inp).cards)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    every = answers()
    result = {"all inputs (samples and vignettes)": figures(every),
              "samples only": figures({k: v for k, v in every.items() if k.startswith("sample:")})}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for title, table in result.items():
            print(title)
            width = max(len(k) for k in table)
            for key, value in table.items():
                print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
