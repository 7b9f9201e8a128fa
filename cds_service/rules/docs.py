"""docs/rules.md, generated from the registry: every rule with id, hook, kind, topic, source and why.

Regenerate with `python -m cds_service.rules.docs > docs/rules.md` (a test checks it is current).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cds_service.cards.data import cards_dir
from cds_service.rules.registry import all_rules

HEADER = """# NET-CDS rules

Generated from the rule registry (`cds_service/rules/`) by `python -m cds_service.rules.docs`; do not
edit by hand. Rule ids are those of `net-decision-model.md` (sections 4-5). Project additions:
`SCOPE-1` (section 1, out-of-scope NEN), `STAGE-1` (section 4.6, stage unknown), `P-7-SSA` (the
insulinoma SSA caution inside a next-step card) and `P-8-PPI` (gastrinoma on a once-daily PPI, inside
the P-8 card). Topics are codes of the CodeSystem
`https://fhir.net-cds.org/CodeSystem/topic`; sources name the seed document and the published
guideline (model section 9) the card cites.

Kinds: `profile`/`scope` (one card), `next-step` (at most one card: first rule of its pathway that fires;
unknown inputs turn it into a conditional card with branches), `syndrome` (at most one card),
`addendum` (a section inside the next-step card; P-8-PPI inside the syndrome card), `gap`/`safety` (one
card each), `follow-up` (at most one: F-3 > F-4 > F-2 > F-1), `order` (order-sign, one card per drafted
order).
"""


def rules_markdown() -> str:
    sources = yaml.safe_load((cards_dir() / "sources.yaml").read_text(encoding="utf-8"))
    lines = [HEADER]
    for hook in ("patient-view", "order-sign"):
        lines += [f"## {hook}", "", "| id | kind | topic | indicator | source | when / why |",
                  "|---|---|---|---|---|---|"]
        for r in all_rules(hook):
            cites = "; ".join([f"`{s}`" for s in r.seed_files] +
                              [f"[{sources[g]['label']}]({sources[g]['url']})" for g in r.guidelines])
            doc = r.doc.replace("|", "\\|")
            lines.append(f"| {r.id} | {r.kind} | `{r.topic}` | {r.indicator} | {cites} | {doc} |")
        lines.append("")
    return "\n".join(lines)


def docs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def main() -> None:
    print(rules_markdown(), end="")


if __name__ == "__main__":
    main()
