"""Card rendering (model section 7): CDS Hooks 2.0 shape, templates as data, FHIR suggestions."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.cards import answer_cards
from cds_service.cards.data import cards_dir
from cds_service.rules import all_rules, evaluate
from tests.shared_docs import SEEDS
from tests.unit.rules.rule_profiles import draft, eligibility, lab, profile, therapy
from tests.vignettes.vignette_support import card_errors

CARDS = Path(__file__).resolve().parents[3] / "cards"
SSA = therapy("ssa", start="2025-01-01")


def render(p, hook: str = "patient-view") -> list[dict]:
    return answer_cards(evaluate(p, hook), p)


def card(cards: list[dict], topic: str) -> dict:
    return next(c for c in cards if c["source"]["topic"]["code"] == topic)


SITUATIONS = {
    "gi-ssa": (profile(ki67=2, burden="high", symptomatic=True), "patient-view"),
    "gi-conditional": (profile(ki67=2), "patient-view"),
    "gi-progressing": (profile(ki67=8, therapies=(SSA,), status="progressing", hepatic=True,
                               prrt_eligibility=eligibility(kps="unknown")), "patient-view"),
    "no-grade": (profile(ki67=None, grade=None, band=None, sstr="unknown"), "patient-view"),
    "gastrinoma-ppi": (profile(site="pancreas", group="pancreas", functional="gastrinoma",
                               draft_orders=(draft("ppi", "omeprazole 40 mg"),)), "order-sign"),
    "nec-ssa": (profile(diff="NEC", ki67=70, grade="high-grade-nec", draft_orders=(
        draft("ssa", "octreotide LAR 30 mg", ref="MedicationRequest/ssa-1", long_acting=True),)), "order-sign"),
    "after-prrt": (profile(therapies=(SSA, therapy("prrt", active=False, administrations=4, last="2026-03-01",
                                                   ref="Procedure/prrt")), line="after-ssa-prrt", status="stable",
                           labs={"platelets": (lab("platelets", 150, "2025-12-01"),)}), "patient-view"),
}


@pytest.mark.parametrize("name", SITUATIONS)
def test_every_card_is_valid_cds_hooks_2(name: str) -> None:
    p, hook = SITUATIONS[name]
    cards = render(p, hook)
    assert cards
    for c in cards:
        assert card_errors(c) == [], (name, c["summary"], card_errors(c))
        uuid.UUID(c["uuid"])
        assert len(c["summary"]) < 140


def test_card_detail_has_profile_line_recommendation_and_facts_and_links_only_in_links() -> None:
    c = card(render(profile(ki67=2, burden="high", symptomatic=True, hepatic=None)), "ssa-first-line")
    assert c["detail"].startswith("**Ileum NET G1** · Ki-67 2 % (pathology 2026-02-01) · metastatic (liver) · "
                                  "SSTR-PET positive (2026-03-01)\n\n")
    assert "**Suggested:**" in c["detail"] and "**Based on:**" in c["detail"]
    assert "http" not in c["detail"] and "Source" not in c["detail"]  # the guideline is in links, once
    assert {"label": "ENETS 2024 guidance, small-intestine NET", "url": "https://doi.org/10.1111/jne.13423",
            "type": "absolute"} in c["links"]
    assert c["source"]["url"] == "https://doi.org/10.1111/jne.13423"
    assert c["source"]["topic"] == {"system": "https://fhir.net-cds.org/CodeSystem/topic", "code": "ssa-first-line",
                                    "display": "Somatostatin analogue, first line"}
    assert all(link["type"] == "absolute" for link in c["links"])


def test_fact_lines_show_value_unit_date_and_short_source_references_in_the_extension() -> None:
    c = card(render(profile(ki67=2, burden="high", symptomatic=True)), "ssa-first-line")
    assert "- Tumour burden: high (clinical assessment 2026-09-01)" in c["detail"]
    assert "Observation/" not in c["detail"]
    ext = c["extension"]["org.net-cds.card"]
    assert ext["rules"] == ["GI-3"] and ext["knowledgeBase"]["version"] == "2"
    ki67 = next(x for x in ext["facts"] if x["label"] == "Ki-67")
    assert ki67 == {"label": "Ki-67", "value": "2 %", "date": "2026-02-01", "source": "pathology",
                    "references": ["Observation/ki67-1"]}


def test_conditional_card_shows_branches_and_what_decides() -> None:
    c = card(render(profile(ki67=2)), "surveillance")
    assert "**If the patient is asymptomatic and the tumour burden is low:**" in c["detail"]
    assert "GI-" not in c["detail"] and "\n**Missing:** " in c["detail"]
    assert {"GI-2", "GI-3"} <= set(c["extension"]["org.net-cds.card"]["rules"])
    assert "tumour burden (low, or high/bulky)" in c["detail"]  # display text from cards/labels.yaml
    assert c["summary"].startswith("NET next step depends on missing data")


def test_addenda_are_rendered_inside_the_next_step_card() -> None:
    c = card(render(SITUATIONS["gi-progressing"][0]), "prrt-after-ssa")
    assert "**PRRT eligibility:** Karnofsky > 50 unknown." in c["detail"]
    assert "**Liver-directed option:**" in c["detail"] and "**The SSA alongside" in c["detail"]
    assert "GI-" not in c["detail"] and "X-7" not in c["detail"] and "decision model" not in c["detail"]
    assert c["extension"]["org.net-cds.card"]["rules"] == ["GI-6", "X-7", "GI-9", "GI-11"]


def test_override_reasons_only_on_warning_and_critical() -> None:
    for c in render(*SITUATIONS["no-grade"]) + render(*SITUATIONS["nec-ssa"]):
        if c["indicator"] == "info":
            assert "overrideReasons" not in c
        else:
            hl7 = [r for r in c["overrideReasons"]
                   if r["system"] == "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"]
            assert {"patient-ineligible", "action-completed", "patient-contraindication"} <= {r["code"] for r in hl7}
            assert all(r["display"] for r in c["overrideReasons"])


def test_sstr_pet_suggestion_is_a_valid_service_request() -> None:
    c = card(render(profile(sstr="unknown")), "sstr-imaging-needed")
    s = c["suggestions"][0]
    assert s["isRecommended"] is True and c["selectionBehavior"] == "at-most-one"
    action = s["actions"][0]
    assert action["type"] == "create"
    sr = ServiceRequest.model_validate(action["resource"])
    assert sr.subject.reference == "Patient/pt-1" and sr.status == "draft"
    assert "DOTATATE" in sr.code.text


def test_gastrin_suggestion_carries_loinc_2333_3() -> None:
    p = profile(site="pancreas", group="pancreas", draft_orders=(draft("ppi", "omeprazole 40 mg"),))
    c = card(render(p, "order-sign"), "ppi-zes-workup")
    resource = c["suggestions"][0]["actions"][0]["resource"]
    assert {"system": "http://loinc.org", "code": "2333-3",
            "display": "Gastrin [Mass/volume] in Serum or Plasma"} in resource["code"]["coding"]


def test_bid_update_keeps_the_draft_and_changes_only_the_frequency() -> None:
    p, hook = SITUATIONS["gastrinoma-ppi"]
    c = card(render(p, hook), "ppi-gastrinoma-dosing")
    action = c["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    original = p.draft_orders[0].resource
    assert resource["id"] == original["id"] and resource["status"] == "draft"
    assert resource["medicationCodeableConcept"] == original["medicationCodeableConcept"]
    dosage = resource["dosageInstruction"][0]
    assert dosage["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert dosage["doseAndRate"] == original["dosageInstruction"][0]["doseAndRate"]
    assert dosage["text"] == "40 mg twice daily"
    assert original["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 1  # the draft is not mutated


def test_bid_update_dropped_when_the_draft_cannot_validate() -> None:
    broken = draft("ppi", "omeprazole", resource={"resourceType": "MedicationRequest", "id": "x", "status": "draft"})
    p = profile(site="pancreas", group="pancreas", functional="gastrinoma", draft_orders=(broken,))
    c = card(render(p, "order-sign"), "ppi-gastrinoma-dosing")
    assert "suggestions" not in c and "selectionBehavior" not in c and c["indicator"] == "warning"


def test_delete_uses_relative_resource_id() -> None:
    c = card(render(*SITUATIONS["nec-ssa"]), "ssa-nec")
    action = c["suggestions"][0]["actions"][0]
    assert action == {"type": "delete", "description": action["description"], "resourceId": "MedicationRequest/ssa-1"}
    assert c["indicator"] == "critical"


def test_follow_up_with_two_overdue_labs_offers_any() -> None:
    c = card(render(*SITUATIONS["after-prrt"]), "post-prrt-monitoring")
    assert c["selectionBehavior"] == "any" and len(c["suggestions"]) == 2


def test_data_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CARDS, tmp_path / "cards")
    rules = yaml.safe_load((tmp_path / "cards" / "rules.yaml").read_text())
    rules["GI-3"]["summary"] = "Overridden summary"
    (tmp_path / "cards" / "rules.yaml").write_text(yaml.safe_dump(rules))
    monkeypatch.setenv("NET_CDS_DATA_DIR", str(tmp_path))
    assert cards_dir() == tmp_path / "cards"
    c = card(render(profile(ki67=2, burden="high", symptomatic=True)), "ssa-first-line")
    assert c["summary"] == "Overridden summary"


# ------------------------------------------------------------------------------ card data integrity


def test_every_rule_has_a_template_summary_topic_and_sources() -> None:
    texts = yaml.safe_load((CARDS / "rules.yaml").read_text())
    topics = yaml.safe_load((CARDS / "topics.yaml").read_text())["codes"]
    sources = yaml.safe_load((CARDS / "sources.yaml").read_text())
    folders = {"scope": "profile", "profile": "profile", "next-step": "therapy", "syndrome": "syndrome",
               "gap": "gaps", "safety": "gaps", "follow-up": "follow_up", "order": "orders", "addendum": "addenda"}
    for r in all_rules():
        assert (CARDS / folders[r.kind] / f"{r.id}.md.j2").exists(), r.id
        assert r.topic in topics, r.id
        assert r.guidelines and all(g in sources for g in r.guidelines), r.id
        if r.kind != "addendum":
            assert texts[r.id]["summary"], r.id
        if r.kind in ("next-step", "syndrome"):
            assert texts[r.id]["when"], r.id
        assert r.doc, f"{r.id} has no docstring saying why"


def test_every_option_key_used_by_a_rule_has_text() -> None:
    options = yaml.safe_load((CARDS / "options.yaml").read_text())
    rules_dir = Path(__file__).resolve().parents[3] / "cds_service" / "rules"
    used = {k for p in rules_dir.glob("*.py") for k in re.findall(r'Option\("([a-z0-9-]+)"', p.read_text())}
    assert used and used <= set(options), used - set(options)


def test_labels_come_from_labels_yaml_and_cover_every_rule_emitted_key() -> None:
    from cds_service.cards.data import card_data

    labels = yaml.safe_load((CARDS / "labels.yaml").read_text())["labels"]
    data = card_data()
    assert data.label("SSTR status ({arg})|sstr-pet") == "SSTR status (SSTR-PET)"
    assert data.label("text from a record | with a bar") == "text from a record \\| with a bar"  # escaped
    assert data.label("text from a record | with a bar", escape=False) == "text from a record | with a bar"
    emitted: set[str] = set()
    for name in SITUATIONS:
        p, hook = SITUATIONS[name]
        criteria = {c.label for c in p.prrt_eligibility.criteria}
        for f in evaluate(p, hook):
            for x in (f, *f.addenda):
                emitted |= {fact.label.partition("|")[0] for fact in x.facts} | {
                    m.partition("|")[0] for m in x.missing}
                emitted -= criteria
    assert emitted and emitted <= set(labels), emitted - set(labels)


def test_model_section_9_links() -> None:
    sources = yaml.safe_load((CARDS / "sources.yaml").read_text())
    assert sources["nanets-2020"]["url"] == "https://doi.org/10.1097/MPA.0000000000001597"
    assert sources["netter-2"]["url"] == "https://doi.org/10.1016/S0140-6736(24)00701-3"
    assert all(s["url"].startswith("https://") for s in sources.values())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.lower())


@pytest.mark.skipif(not SEEDS.exists(), reason="seed texts not available")
def test_no_card_text_is_copied_from_the_seeds() -> None:
    n = 7  # any run of 7 words shared with a seed counts as copying
    grams = set()
    for path in SEEDS.glob("*.txt"):
        w = _words(path.read_text(errors="ignore"))
        grams |= {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}
    texts = [p.read_text() for p in CARDS.rglob("*") if p.is_file()]
    texts += [c["detail"] + " " + c["summary"] for name in SITUATIONS for c in render(*SITUATIONS[name])]
    copied = set()
    for text in texts:
        w = _words(text)
        copied |= {" ".join(w[i:i + n]) for i in range(len(w) - n + 1) if tuple(w[i:i + n]) in grams}
    assert not copied, copied


def test_label_arguments() -> None:
    from cds_service.cards.data import card_data

    data = card_data()
    assert data.label("{0} administration(s), last {1}|4|2026-03-01") == "4 administration(s), last dose 2026-03-01"
    assert data.label("{arg} (fail)|60 x10^9/L") == "60 x10^9/L, criterion not met"
    assert data.label("{arg} (pass)|positive (sstr-pet)") == "positive on SSTR-PET"
    assert data.label("ileum") == "ileum"


def test_prrt_fact_is_rendered_with_count_and_last_dose() -> None:
    c = card(render(*SITUATIONS["after-prrt"]), "post-prrt-monitoring")
    assert "- PRRT (Lu-177 dotatate): 4 administration(s), last dose 2026-03-01 (procedure " in c["detail"]


def test_bid_update_of_a_draft_with_category_as_one_object_is_built_from_a_normalized_copy() -> None:
    p, hook = SITUATIONS["gastrinoma-ppi"]
    sandbox = dict(p.draft_orders[0].resource, category={"coding": [{"code": "outpatient"}]})  # not strictly R4
    order = draft("ppi", "omeprazole 40 mg", resource=sandbox)
    p = profile(site="pancreas", group="pancreas", functional="gastrinoma", draft_orders=(order,))
    c = card(render(p, "order-sign"), "ppi-gastrinoma-dosing")
    resource = c["suggestions"][0]["actions"][0]["resource"]
    MedicationRequest.model_validate(resource)
    assert resource["category"] == [{"coding": [{"code": "outpatient"}]}]
    assert "corrected copy of the draft" in c["detail"] and "category" in c["detail"]


def test_a_suggestion_that_cannot_be_built_is_explained_on_the_card() -> None:
    broken = draft("ppi", "omeprazole", resource={"resourceType": "MedicationRequest", "id": "x", "status": "draft"})
    p = profile(site="pancreas", group="pancreas", functional="gastrinoma", draft_orders=(broken,))
    c = card(render(p, "order-sign"), "ppi-gastrinoma-dosing")
    assert "suggestions" not in c
    assert 'No button for "Change the drafted PPI to twice daily"' in c["detail"] and "subject" in c["detail"]


def test_every_option_has_a_short_name_for_branches_and_check_first() -> None:
    options = set(yaml.safe_load((CARDS / "options.yaml").read_text()))
    names = yaml.safe_load((CARDS / "option_names.yaml").read_text())
    assert options <= set(names), options - set(names)
    assert all(isinstance(v, str) and 0 < len(v) <= 60 for v in names.values())
