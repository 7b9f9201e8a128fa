"""Safety invariants of the decision model (section 6), one test each, run over every vignette case
and every sample patient (both hooks where a draft exists). Inputs are discovered from the files,
so new cases and samples are covered automatically.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from cds_service.cards.render import CARD_EXTENSION, label_text
from cds_service.rules.common import select_pathway, sstr_imaging_positive
from tests.markup import HOSTILE, injected, render
from tests.vignettes.vignette_support import Input, all_inputs, run

INPUTS = all_inputs()
_CACHE: dict[str, object] = {}

NEC_FORBIDDEN_OPTIONS = {"ssa", "ssa-hormone-only", "ssa-indolent", "ssa-dose-escalation", "ssa-syndrome",
                         "ssa-escalation", "ssa-insulinoma-sstr-positive", "everolimus", "everolimus-insulinoma",
                         "sunitinib", "cabozantinib", "prrt-ssa", "prrt-retreatment-ssa", "prrt-ssa-netter-2",
                         "liver-directed-ssa"}
NEC_FORBIDDEN_TOPICS = {"ssa-first-line", "prrt-first-line", "prrt-after-ssa", "after-prrt", "targeted-first-line",
                        "targeted-later-line", "after-ssa-pnet", "ssa-syndrome-control", "hormone-control",
                        "g3-net-first-line", "sstr-negative-pnet", "cytoreduction-first-line"}
PRRT_OPTIONS = {"prrt-ssa", "prrt-retreatment-ssa", "prrt-ssa-netter-2"}
CHEMO_OPTIONS = {"captem", "chemotherapy-pnet", "platinum-etoposide", "platinum-irinotecan", "nec-folfiri-folfox",
                 "nec-temozolomide"}
STOP_PPI = re.compile(r"\b(stop|hold|withhold|discontinue|withdraw|off)\s+(the\s+)?(PPI|proton pump)", re.I)
# A date as the EHR recorded it: a full ISO date, or a partial one ("2024", "2024-03"), shown as sent rather
# than padded with an invented day (model section 2: partial dates are real EHR data).
ISO_DATE = re.compile(r"\b\d{4}(-\d{2}){0,2}\b")
FHIR_REF = re.compile(r"[A-Z][A-Za-z]+/[^/\s]+")
SOURCE_AND_DATE = re.compile(r"^- .+ \([a-zA-Z][a-zA-Z -]* \d{4}(-\d{2}){0,2}\)$")


def outcome(inp: Input):
    if inp.id not in _CACHE:
        _CACHE[inp.id] = run(inp)
    return _CACHE[inp.id]


def applicable(condition) -> list[Input]:
    """The inputs an invariant speaks about, chosen when the tests are collected (no per-case skips)."""
    return [inp for inp in INPUTS if condition(outcome(inp))]


NEC_CASES = applicable(lambda out: out.profile.differentiation.value == "NEC")
NO_POSITIVE_SSTR_CASES = applicable(lambda out: not sstr_imaging_positive(out.profile))
GASTRINOMA_CASES = applicable(lambda out: out.profile.functional_syndrome.value == "gastrinoma")
GI_G1_G2_CASES = applicable(lambda out: select_pathway(out.profile)[0] == "gi")


def test_every_invariant_has_inputs_it_applies_to() -> None:
    """An invariant over an empty set proves nothing: each has vignettes or samples it applies to."""
    sizes = {"NEC": len(NEC_CASES), "no positive SSTR imaging": len(NO_POSITIVE_SSTR_CASES),
             "gastrinoma": len(GASTRINOMA_CASES), "G1/G2 GI NET": len(GI_G1_G2_CASES)}
    assert all(n >= 3 for n in sizes.values()), sizes


def findings_with_addenda(findings):
    for f in findings:
        yield f
        yield from f.addenda


@pytest.mark.parametrize("inp", NEC_CASES, ids=str)
def test_invariant_1_nec_is_never_offered_ssa_everolimus_sunitinib_or_prrt(inp: Input) -> None:
    out = outcome(inp)
    for f in findings_with_addenda(out.findings):
        assert not set(f.all_options()) & NEC_FORBIDDEN_OPTIONS, f"{f.rule_id} offers {f.all_options()}"
        assert f.topic not in NEC_FORBIDDEN_TOPICS, f.rule_id
    for card in out.cards:
        for s in card.get("suggestions") or ():
            for a in s["actions"]:
                assert a["type"] != "create" or a["resource"]["resourceType"] != "MedicationRequest"
    # order-sign: a drafted SSA / everolimus / sunitinib / PRRT for a NEC is never left without an alert
    for order in out.profile.draft_orders:
        if order.therapy in ("ssa", "everolimus", "sunitinib", "cabozantinib", "prrt") and inp.hook == "order-sign" \
                and out.profile.in_scope:
            alerts = [f for f in out.findings if f.order_ref == order.reference
                      and f.indicator in ("warning", "critical")]
            assert alerts, f"{order.reference} ({order.therapy}) drafted for a NEC without a warning"


@pytest.mark.parametrize("inp", NO_POSITIVE_SSTR_CASES, ids=str)
def test_invariant_2_no_prrt_without_positive_sstr_imaging(inp: Input) -> None:
    out = outcome(inp)
    p = out.profile
    for f in findings_with_addenda(out.findings):
        assert not set(f.recommended_options) & PRRT_OPTIONS, f"{f.rule_id} recommends PRRT: {f.options}"
        if p.sstr_status.value == "negative":
            assert not set(f.all_options()) & PRRT_OPTIONS, f"{f.rule_id} shows PRRT to an SSTR-negative patient"
            assert f.topic not in ("prrt-first-line", "prrt-after-ssa", "after-prrt"), f.rule_id
    # a drafted Lu-177 order without positive imaging always gets the eligibility alert
    if inp.hook == "order-sign" and p.nen_status != "none" and p.in_scope:
        for order in p.draft_orders:
            if order.therapy == "prrt":
                assert any(f.rule_id == "O-PRRT-1" and f.order_ref == order.reference for f in out.findings)


@pytest.mark.parametrize("inp", GASTRINOMA_CASES, ids=str)
def test_invariant_3_gastrinoma_is_never_advised_to_stop_or_hold_a_ppi(inp: Input) -> None:
    out = outcome(inp)
    p = out.profile
    assert not [f.rule_id for f in out.findings if f.rule_id in ("X-5", "O-PPI-2")]
    suppressed = {e.rule_id for e in out.evaluations if e.status == "suppressed"}
    ppi_drafts = {o.reference for o in p.draft_orders if o.therapy == "ppi"}
    for card in out.cards:
        assert not STOP_PPI.search(card["detail"]), card["detail"]
        assert not STOP_PPI.search(card["summary"]), card["summary"]
        for s in card.get("suggestions") or ():
            for a in s["actions"]:
                assert not (a["type"] == "delete" and a.get("resourceId") in ppi_drafts)
    if any(t.therapy == "ppi" for t in p.therapies) and p.latest_lab("cga"):
        assert "X-5" in suppressed or inp.hook == "order-sign"


@pytest.mark.parametrize("inp", GI_G1_G2_CASES, ids=str)
def test_invariant_4_chemotherapy_never_preferred_for_g1_g2_gi_net(inp: Input) -> None:
    out = outcome(inp)
    for f in findings_with_addenda(out.findings):
        assert f.preferred_option not in CHEMO_OPTIONS, f.rule_id
        assert not set(f.all_options()) & CHEMO_OPTIONS, f"{f.rule_id} offers chemotherapy: {f.all_options()}"
        assert f.topic not in ("cytoreduction-first-line", "g3-net-first-line", "nec-first-line"), f.rule_id


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_invariant_5_missing_data_never_gives_a_confident_recommendation(inp: Input) -> None:
    out = outcome(inp)
    p = out.profile
    cards = dict(zip([id(f) for f in out.findings], out.cards, strict=True))
    for f in out.findings:
        card = cards[id(f)]
        # every missing item is named on the card
        for item in f.missing:
            assert label_text(item) in card["detail"], f"{f.rule_id}: missing item {item!r} not shown"
        if f.conditional:
            assert f.missing, f"{f.rule_id} is conditional but names no missing data"
            assert f.preferred_option is None
            assert not any(s.get("isRecommended") for s in card.get("suggestions") or ())
            assert "**Missing:**" in card["detail"]
    # an unknown input the chosen rule needed always shows up as a branch or a 'check first' note
    for e in out.evaluations:
        if e.status == "unknown" and e.finding is not None:
            names = [b.rule_id for b in e.finding.branches + e.finding.prechecks]
            assert e.rule_id in names or e.finding.conditional, e.rule_id
        if e.status == "fired" and e.kind in ("next-step", "syndrome"):
            assert not e.missing, f"{e.rule_id} fired with missing inputs {e.missing}"
    # no grade (no usable Ki-67 or mitoses) in a non-NEC: a gap card, and no grade-dependent next step
    if p.nen_status == "active" and p.in_scope and p.differentiation.value != "NEC" and inp.hook == "patient-view" \
            and not p.ki67_percent.known and not p.mitotic_count.known:
        assert any(f.rule_id == "X-1" for f in out.findings)
        assert not [f.rule_id for f in out.findings if f.kind == "next-step"]
    # a NEC without Ki-67 or mitoses (model v2 X-1): an info card says why Ki-67 still matters; it never
    # blocks the NEC pathway and never recommends anything on its own
    if p.nen_status == "active" and p.in_scope and p.differentiation.value == "NEC" and inp.hook == "patient-view" \
            and not p.ki67_percent.known and not p.mitotic_count.known:
        x1 = [f for f in out.findings if f.rule_id == "X-1"]
        assert x1 and x1[0].indicator == "info" and not any(s.recommended for s in x1[0].suggestions)


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_invariant_6_every_shown_value_has_date_and_source(inp: Input) -> None:
    out = outcome(inp)
    for f in findings_with_addenda(out.findings):
        for fact in f.facts:
            assert ISO_DATE.fullmatch(fact.date), f"{f.rule_id}: {fact.label} has no date"
            assert fact.references and all("/" in r for r in fact.references), f"{f.rule_id}: {fact.label}"
    for card in out.cards:
        # the text: each "Based on" line ends with a short human source and the date
        based_on = card["detail"].split("**Based on:**", 1)
        if len(based_on) == 2:
            for line in based_on[1].strip().split("\n\n", 1)[0].splitlines():
                assert SOURCE_AND_DATE.search(line), f"value without date and source: {line}"
        # the extension: each fact with its date and the FHIR references behind it
        for fact in card["extension"][CARD_EXTENSION]["facts"]:
            assert ISO_DATE.fullmatch(fact["date"]) and fact["source"], fact
            assert fact["references"] and all(FHIR_REF.fullmatch(r) for r in fact["references"]), fact


# ------------------------------------------------------------------ invariant 7: text is never markup

TEXT_KEYS = {"display", "text", "conclusion", "valueString", "comment", "description", "title", "name",
             "patientInstruction"}
FOREIGN_MARKUP = re.compile(r"<(img|span|script|a|code|del|s|h\d|blockquote|hr|table|em|iframe|style)\b", re.I)


def with_hostile_text(value):
    """A copy of FHIR JSON with hostile markup appended to every text field (codes and references kept,
    so the record still reads as the same patient)."""
    if isinstance(value, dict):
        return {k: (v + " " + HOSTILE if k in TEXT_KEYS and isinstance(v, str) else with_hostile_text(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [with_hostile_text(v) for v in value]
    return value


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_invariant_7_markup_in_any_fhir_text_field_never_reaches_a_card(inp: Input, tmp_path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(with_hostile_text(json.loads(inp.bundle.read_text()))))
    draft = None
    if inp.draft:
        draft = tmp_path / "draft.json"
        draft.write_text(json.dumps(with_hostile_text(json.loads(inp.draft.read_text()))))
    out = run(dataclasses.replace(inp, bundle=bundle, draft=draft))
    for card in out.cards:
        for field in ("summary", "detail"):
            html = render(card[field])
            assert not FOREIGN_MARKUP.search(html), f"{inp.id} {field}: {html}"
            assert not injected(html, own=card[field]) or field == "detail"
        for link in card.get("links") or ():
            assert "evil" not in link["url"]


def test_invariant_7_is_not_vacuous_hostile_text_reaches_cards_as_plain_text(tmp_path) -> None:
    """The invariant-7 inputs do carry the hostile text onto cards (as text): drug names, notes, values."""
    shown = 0
    for inp in [i for i in INPUTS if i.hook == "order-sign"]:
        draft = tmp_path / f"{inp.id.replace(':', '_')}.json"
        draft.write_text(json.dumps(with_hostile_text(json.loads(inp.draft.read_text()))))
        out = run(dataclasses.replace(inp, draft=draft))
        shown += sum("**bold**" in render(c["detail"]) for c in out.cards)
    assert shown >= 3


# ------------------------------------------------------------------------------------ invariant 8

SUSPECTED = {"provisional", "differential", "unconfirmed"}
# Rules written for the suspected state (model section 2): O-PPI-1 asks for the gastrin workup exactly when a
# ZES is suspected; SCOPE-3 is the info card that names a suspected NEN and advises nothing.
FOR_THE_SUSPECTED_STATE = {"O-PPI-1", "SCOPE-3"}


def _verification(resource: dict) -> str | None:
    for coding in (resource.get("verificationStatus") or {}).get("coding") or ():
        return coding.get("code")
    return None


def _suspected_conditions(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry") or () if e["resource"].get("resourceType") == "Condition"
            and _verification(e["resource"]) in SUSPECTED]


def _bundle(inp: Input) -> dict:
    return json.loads(inp.bundle.read_text(encoding="utf-8"))


SUSPECTED_CASES = [inp for inp in INPUTS if _suspected_conditions(_bundle(inp))]


def _without_suspected(inp: Input):
    """The same input with its provisional/differential/unconfirmed Conditions removed."""
    from cds_service.commands.explain import profile_from_bundles
    from cds_service.rules.engine import run as run_rules

    bundle = _bundle(inp)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"] not in _suspected_conditions(bundle)]
    draft = json.loads(inp.draft.read_text(encoding="utf-8")) if inp.draft else None
    findings, _ = run_rules(profile_from_bundles(bundle, draft, inp.today), inp.hook)
    return findings


def _confident(f) -> bool:
    """Not conditional, and either a recommendation (options) or a warning/critical alert."""
    return not f.conditional and (f.indicator != "info" or bool(f.recommended_options))


def test_invariant_8_has_inputs_it_applies_to() -> None:
    assert len(SUSPECTED_CASES) >= 3, [str(i) for i in SUSPECTED_CASES]


@pytest.mark.parametrize("inp", INPUTS, ids=str)
def test_invariant_8_a_suspected_diagnosis_never_gives_a_confident_recommendation_by_itself(inp: Input) -> None:
    """Compared with the same record without its suspected Conditions, every card the suspicion adds or
    changes is conditional (or written for the suspected state) and names the unconfirmed diagnosis. A
    record without suspected Conditions has none in its profile, and no card names one."""
    out = outcome(inp)
    if inp not in SUSPECTED_CASES:
        assert not out.profile.suspected
        assert not [f.rule_id for f in out.findings if any("suspected" in m for m in f.missing)]
        return
    baseline = _without_suspected(inp)
    same = {(f.rule_id, f.order_ref, f.conditional, f.indicator, tuple(f.recommended_options)) for f in baseline}
    for f in out.findings:
        if (f.rule_id, f.order_ref, f.conditional, f.indicator, tuple(f.recommended_options)) in same:
            continue  # given by the confirmed record alone
        if f.rule_id in FOR_THE_SUSPECTED_STATE:
            continue
        assert not _confident(f), f"{f.rule_id} is a confident card that the suspected diagnosis produced"
        assert any("suspected" in m for m in f.missing), \
            f"{f.rule_id} was changed by a suspected diagnosis without naming it: {f.missing}"
