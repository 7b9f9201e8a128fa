"""What a clinician sees of one answer (decision model section 7): fact lines, internals that must never
show, and the figures of issue 12 (cards per chart opening, order, length). Used by the layout tests
(tests/test_card_layout.py) and by tools/card_metrics.py, so the figures and the tests read cards alike.
"""

from __future__ import annotations

import re
import statistics
from functools import cache
from typing import Any

import yaml

from cds_service.cards.data import cards_dir
from cds_service.profile import model

EXTENSION = "org.net-cds.card"
FHIR_REFERENCE = re.compile(r"\b(Patient|Condition|Observation|DiagnosticReport|MedicationStatement|MedicationRequest|"
                            r"MedicationAdministration|Medication|ServiceRequest|Procedure|FamilyMemberHistory|"
                            r"Bundle|Encounter|Practitioner)/")
RULE_ID = re.compile(r"(?<![\w-])(GI|P|G3|NEC|X|F|R|STAGE|SCOPE|O-[A-Z]+)-\d+[a-z]?(?![\w-])")
PATTERN = re.compile(r"-\?|\\[bdsw]|\(\?|\[\^")  # regular-expression fragments (`neuro-?endocrine`)
CRITERION_RESULT = re.compile(r"\((met|pass|fail|unknown)\)")
# hyphenated codes that are also plain English in card text
NATURAL = {"liver-directed", "small-intestine", "platinum-etoposide", "platinum-irinotecan", "clinical-trial",
           "debulking", "diazoxide"}


@cache
def internal_codes() -> frozenset[str]:
    """Topic codes, option keys and the profile's coded values that contain a hyphen (plain words excluded)."""
    codes = set(yaml.safe_load((cards_dir() / "topics.yaml").read_text())["codes"])
    codes |= set(yaml.safe_load((cards_dir() / "options.yaml").read_text()))
    for name in ("SiteGroup", "WhoGrade", "Ki67Band", "SstrModality", "FunctionalSyndrome", "LineOfTherapy",
                 "TherapyClass"):
        codes |= set(getattr(model, name).__args__)
    codes |= {"sstr-positive", "crcl-gt-50", "kps-gt-50", "platelets-ge-75", "lymph-node"}
    return frozenset(c for c in codes if "-" in c and c not in NATURAL)


def internals(text: str) -> list[str]:
    """Everything in `text` a clinician cannot use: FHIR references, rule ids, codes, patterns, '(met)'."""
    found = [m.group(0) for m in FHIR_REFERENCE.finditer(text)]
    found += [m.group(0) for m in RULE_ID.finditer(text)]
    found += [m.group(0) for m in PATTERN.finditer(text)]
    found += [m.group(0) for m in CRITERION_RESULT.finditer(text)]
    found += [c for c in internal_codes() if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    return found


def fact_lines(detail: str) -> list[str]:
    """The "Based on" lines of a card."""
    parts = detail.split("**Based on:**", 1)
    if len(parts) == 1:
        return []
    return [line for line in parts[1].strip().split("\n\n", 1)[0].splitlines() if line.startswith("- ")]


def repeated_facts(cards: list[dict]) -> list[str]:
    """Fact lines that appear on more than one card of the answer."""
    seen: set[str] = set()
    repeated = []
    for card in cards:
        for line in set(fact_lines(card.get("detail", ""))):
            if line in seen:
                repeated.append(line)
            seen.add(line)
    return repeated


def kind(card: dict) -> str:
    return card["extension"][EXTENSION]["kind"]


def leads(cards: list[dict]) -> bool:
    """When the answer has a critical or next-step card, one of them is first (critical before next step)."""
    if any(c["indicator"] == "critical" for c in cards):
        return cards[0]["indicator"] == "critical"
    if any(kind(c) == "next-step" for c in cards):
        return kind(cards[0]) == "next-step"
    return True


def figures(answers: dict[str, tuple[str, list[dict]]]) -> dict[str, Any]:
    """Issue 12's figures over answers {input id: (hook, cards)}."""
    views = [cards for hook, cards in answers.values() if hook == "patient-view"]
    per_view = [len(cards) for cards in views]
    next_step = [len(c["detail"]) for _, cards in answers.values() for c in cards if kind(c) == "next-step"]
    every = [len(c.get("detail", "")) for _, cards in answers.values() for c in cards]
    return {
        "answers": len(answers),
        "patient_view_answers": len(views),
        "cards_per_patient_view_median": statistics.median(per_view),
        "cards_per_patient_view_max": max(per_view),
        "detail_chars_per_patient_view_median": statistics.median(
            sum(len(c.get("detail", "")) for c in cards) for cards in views),
        "next_step_cards": len(next_step),
        "next_step_detail_median": statistics.median(next_step),
        "next_step_detail_max": max(next_step),
        "any_card_detail_max": max(every),
        "answers_not_led_by_critical_or_next_step": sorted(i for i, (_, c) in answers.items() if not leads(c)),
        "answers_with_a_repeated_fact_line": sorted(i for i, (_, c) in answers.items() if repeated_facts(c)),
        "cards_showing_internals": sorted({i for i, (_, cards) in answers.items() for c in cards
                                           if internals(c["summary"]) or internals(c.get("detail", ""))}),
    }
