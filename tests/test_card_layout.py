"""Cards a clinician takes in at a glance (decision model section 7, issue 12), over every vignette and
sample with the service's default settings: few cards, the one that matters first, short, no fact twice,
nothing a clinician cannot use. The medians are figures, not invariants: tools/card_metrics.py."""

from __future__ import annotations

import dataclasses

import pytest

from tests.card_layout import fact_lines, internals, kind, leads, repeated_facts
from tests.vignettes.vignette_support import Input, all_inputs, run

INPUTS = all_inputs()
MAX_CARDS_PER_PATIENT_VIEW = 4
MAX_DETAIL = 1500  # characters of markdown, any card
_CACHE: dict[str, list[dict]] = {}


def cards(inp: Input) -> list[dict]:
    if inp.id not in _CACHE:
        _CACHE[inp.id] = run(inp).cards
    return _CACHE[inp.id]


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_few_cards_and_the_one_that_matters_first(inp: Input) -> None:
    answer = cards(inp)
    if inp.hook == "patient-view":
        assert len(answer) <= MAX_CARDS_PER_PATIENT_VIEW, [c["summary"] for c in answer]
    assert leads(answer), [(c["indicator"], kind(c)) for c in answer]
    if not (inp.expectation or {}).get("profile_card"):
        assert all(kind(c) != "profile" for c in answer), "the profile card is off by default"


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_every_card_is_short(inp: Input) -> None:
    for card in cards(inp):
        assert len(card.get("detail", "")) <= MAX_DETAIL, (card["summary"], len(card["detail"]))


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_no_fact_line_is_repeated_across_the_cards_of_an_answer(inp: Input) -> None:
    answer = cards(inp)
    assert not repeated_facts(answer)
    for card in answer:
        lines = fact_lines(card.get("detail", ""))
        assert len(lines) == len(set(lines)), card["summary"]


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_no_fhir_reference_rule_id_topic_code_or_internal_value_in_the_text(inp: Input) -> None:
    for card in cards(inp):
        for field in ("summary", "detail"):
            assert not internals(card.get(field, "")), (field, internals(card.get(field, "")), card[field])


def test_the_checks_can_fail() -> None:
    """The detectors find what they are for (else the tests above prove nothing)."""
    assert internals("see Observation/abc-1 and rule GI-6, topic prrt-after-ssa, line after-ssa-prrt (met)")
    assert internals("matched neuro-?endocrine") and internals("O-PPI-3") and internals("high-grade-nec")
    assert not internals("Lu-177 dotatate after NETTER-1; Ki-67 7 %; SSTR-PET positive; liver-directed therapy")
    detail = "x\n\n**Based on:**\n- Ki-67: 7 % (pathology 2024-02-05)\n"
    assert repeated_facts([{"detail": detail}, {"detail": detail}]) == ["- Ki-67: 7 % (pathology 2024-02-05)"]
    assert not leads([{"indicator": "info", "extension": {"org.net-cds.card": {"kind": "gap"}}},
                      {"indicator": "info", "extension": {"org.net-cds.card": {"kind": "next-step"}}}])


SAMPLES = [i for i in INPUTS if i.id.startswith("sample:") and i.hook == "patient-view"]


@pytest.mark.parametrize("inp", SAMPLES, ids=str)
def test_with_the_profile_card_on_it_comes_last_short_and_without_internals(inp: Input) -> None:
    answer = run(dataclasses.replace(inp, expectation={**(inp.expectation or {}), "profile_card": True})).cards
    profiles = [i for i, c in enumerate(answer) if kind(c) == "profile"]
    assert profiles in ([], [len(answer) - 1])
    assert not repeated_facts(answer)
    for card in answer:
        assert len(card.get("detail", "")) <= MAX_DETAIL
        assert not internals(card["summary"]) and not internals(card.get("detail", "")), card["detail"]
