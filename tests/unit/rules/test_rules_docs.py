"""docs/rules.md lists every rule of the registry and is up to date."""

from __future__ import annotations

from cds_service.rules import all_rules
from cds_service.rules.docs import docs_path, rules_markdown


def test_docs_rules_md_is_current() -> None:
    assert docs_path().read_text(encoding="utf-8") == rules_markdown(), \
        "regenerate: python -m cds_service.rules.docs > docs/rules.md"


def test_docs_list_every_rule_with_topic_and_source() -> None:
    text = rules_markdown()
    for r in all_rules():
        assert f"| {r.id} | {r.kind} | `{r.topic}` |" in text
