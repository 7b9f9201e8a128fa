"""The synthetic FHIR data is well-formed: samples/ and tests/vignettes/cases/.

These bundles are the shared ground truth of the profile builder and the rules, so they must be
valid FHIR R4 (R4B models; deliberately hostile vignettes excepted), self-contained (every reference
resolves inside the bundle), uniquely identified, and together cover every rule id of the decision
model (net-decision-model.md sections 4-5).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CASES = ROOT / "tests" / "vignettes" / "cases"
EXPECTATIONS = ROOT / "tests" / "vignettes" / "expectations.yaml"

# Rule ids of the decision model's tables (sections 4.1-4.6 and 5).
GI_RULES = [f"GI-{i}" for i in range(1, 12)]
P_RULES = [f"P-{i}" for i in range(1, 10)]
THERAPY_RULES = GI_RULES + P_RULES + ["G3-1", "G3-2", "NEC-1", "NEC-2", "R-1"]
X_RULES = [f"X-{i}" for i in range(1, 10)] + ["X-2b"]
# Project rules for model sections 1-2 (scope: out of scope, under 18, suspected NEN; suspected diagnoses).
SCOPE_RULES = ["SCOPE-1", "SCOPE-2", "SCOPE-3", "SUSPECT-1"]
F_RULES = ["F-1", "F-2", "F-3", "F-4"]
ORDER_RULES = ["O-PPI-1", "O-PPI-2", "O-PPI-3", "O-SSA-1", "O-SSA-2", "O-SSA-3", "O-SSA-4", "O-SSA-5",
               "O-PRRT-1", "O-TKI-1", "O-TKI-2", "O-TKI-3", "O-CABO-1"]
# Project addenda a worklist queue is found by (docs/rules.md): gastrinoma on a once-daily PPI.
ADDENDA_RULES = ["P-8-PPI"]
ALL_RULES = THERAPY_RULES + X_RULES + F_RULES + ORDER_RULES + SCOPE_RULES + ADDENDA_RULES
SCOPE = "scope"  # model section 1: no NEN, or only an out-of-scope NEN

# Topic vocabulary (model section 8).
TOPICS = {
    "net-profile", "resection-evaluation", "surveillance", "ssa-first-line", "prrt-first-line",
    "targeted-first-line", "prrt-after-ssa", "after-prrt", "targeted-later-line", "liver-directed",
    "hormone-control", "cytoreduction-first-line", "after-ssa-pnet", "targeted-choice", "sstr-negative-pnet",
    "insulinoma-control", "gastrinoma-acid-control", "ssa-syndrome-control", "g3-net-first-line",
    "nec-first-line", "grade-unknown", "sstr-imaging-needed", "sstr-pet-confirm", "pathology-review",
    "cga-ppi-confounded", "men1-evaluation", "prrt-cumulative", "ppi-zes-workup", "ppi-cga-confound",
    "ppi-gastrinoma-dosing", "ssa-nec", "ssa-insulinoma", "ssa-sstr-negative", "ssa-prrt-washout",
    "prrt-eligibility", "targeted-nec", "follow-up-schedule", "post-prrt-monitoring",
    "post-resection-surveillance", "nec-second-line",
}
SUGGESTION_KINDS = {"create:ServiceRequest", "update:MedicationRequest", "delete:MedicationRequest"}
EXPECTATION_KEYS = {"rule", "hook", "today", "draft", "expect_topics", "expect_any_topics", "absent_topics",
                    "expect_rules", "no_cards", "indicators", "suggestions", "hostile", "why", "profile_card",
                    "unresolved"}
UNDATED_TYPES = {"Patient", "Medication"}
DATE_FIELDS = ("effectiveDateTime", "effectivePeriod", "onsetDateTime", "recordedDate", "authoredOn",
               "performedDateTime", "performedPeriod", "occurrenceDateTime", "dateAsserted", "issued", "date")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def _index() -> dict:
    return yaml.safe_load((SAMPLES / "index.yaml").read_text(encoding="utf-8"))


@functools.cache
def _expectations() -> dict:
    return yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))["cases"]


@functools.cache
def _hostile_files() -> set[Path]:
    hostile = set()
    for name, exp in _expectations().items():
        if exp.get("hostile"):
            hostile.add(CASES / name)
            if exp.get("draft"):
                hostile.add(CASES / exp["draft"])
    return hostile


def _patient_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json")) + sorted(CASES.glob("*.json"))


def _draft_files() -> list[Path]:
    return sorted((SAMPLES / "drafts").glob("*.json")) + sorted((CASES / "drafts").glob("*.json"))


@functools.cache
def _draft_owner() -> dict[Path, Path]:
    """Draft file -> the patient bundle it belongs to (from index.yaml and expectations.yaml)."""
    owner = {}
    for item in _index()["samples"]:
        if item.get("draft"):
            owner[(SAMPLES / item["draft"]).resolve()] = SAMPLES / item["file"]
    for name, exp in _expectations().items():
        if exp.get("draft"):
            owner[(CASES / exp["draft"]).resolve()] = CASES / name
    return owner


def _resources(bundle: dict) -> Iterator[dict]:
    entries = bundle.get("entry") or []
    for entry in entries if isinstance(entries, list) else [entries]:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield resource


def _references(node, contained_ids: set[str]) -> Iterator[tuple[str, set[str]]]:
    """Every Reference.reference string in a resource, with the contained ids visible at that point."""
    if isinstance(node, dict):
        if isinstance(node.get("contained"), list):
            contained_ids = contained_ids | {c.get("id") for c in node["contained"] if isinstance(c, dict)}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value, contained_ids
            else:
                yield from _references(value, contained_ids)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, contained_ids)


def _keys(bundle: dict) -> set[str]:
    keys = set()
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        keys.add(f"{resource.get('resourceType')}/{resource.get('id')}")
        if entry.get("fullUrl"):
            keys.add(entry["fullUrl"])
    return keys


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


ALL_FILES = _patient_files() + _draft_files()


def test_there_is_data():
    assert len(list(SAMPLES.glob("*.json"))) >= 12
    assert len(list(CASES.glob("*.json"))) >= len(ALL_RULES)


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_file_is_a_bundle(path):
    bundle = _load(path)
    assert bundle.get("resourceType") == "Bundle"
    assert isinstance(bundle.get("entry"), list) and bundle["entry"]


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_bundle_validates_as_r4(path):
    if path in _hostile_files():
        pytest.skip("deliberately hostile data (hostile: true in expectations.yaml)")
    bundle = copy.deepcopy(_load(path))
    # CDS Hooks leaves draftOrders' Bundle.type unspecified and the sandbox omits it; FHIR requires it.
    if path in _draft_files():
        bundle.setdefault("type", "collection")
    Bundle.model_validate(bundle)


@pytest.mark.parametrize("path", _patient_files(), ids=_rel)
def test_patient_bundle_shape(path):
    bundle = _load(path)
    assert bundle.get("type") == "collection"
    resources = list(_resources(bundle))
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == 1, "exactly one Patient per bundle"
    pid = patients[0]["id"]
    keys = [f"{r['resourceType']}/{r.get('id')}" for r in resources]
    assert len(keys) == len(set(keys)), "resource ids unique within the bundle"
    for resource in resources:
        assert resource.get("id", "").startswith(pid), f"{resource.get('id')} is not prefixed with {pid}"
        if resource["resourceType"] in UNDATED_TYPES or path in _hostile_files():
            continue
        assert "status" in resource or "clinicalStatus" in resource, f"{resource['id']} has no status"
        owner = "patient" if resource["resourceType"] == "FamilyMemberHistory" else "subject"
        assert resource.get(owner, {}).get("reference") == f"Patient/{pid}", resource["id"]
        assert any(resource.get(f) for f in DATE_FIELDS), f"{resource['id']} has no date"


@pytest.mark.parametrize("path", _draft_files(), ids=_rel)
def test_draft_orders_shape(path):
    owner = _draft_owner().get(path.resolve())
    assert owner is not None, "draft file not referenced by index.yaml or expectations.yaml"
    pid = next(r["id"] for r in _resources(_load(owner)) if r["resourceType"] == "Patient")
    for resource in _resources(_load(path)):
        assert resource["resourceType"] in ("MedicationRequest", "ServiceRequest")
        assert resource.get("status") == "draft"
        assert resource.get("id", "").startswith(pid)
        if path in _hostile_files():
            continue
        assert resource.get("intent") == "order"
        assert resource.get("subject", {}).get("reference") == f"Patient/{pid}"


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_references_resolve(path):
    bundle = _load(path)
    keys = _keys(bundle)
    owner = _draft_owner().get(path.resolve())
    if owner is not None:  # a draft may point at the patient and at Medications in the patient record
        keys |= _keys(_load(owner))
    # a vignette may leave a reference unresolved on purpose ("unresolved" in expectations.yaml: the FHIR
    # server did not send the Medication), to test that the service says so
    deliberate = set((_expectations().get(path.name) or {}).get("unresolved", ()))
    for resource in _resources(bundle):
        for reference, contained in _references(resource, set()):
            if reference.startswith("#"):
                assert reference[1:] in contained, f"{resource['id']}: unresolved {reference}"
            else:
                assert reference in keys or reference in deliberate, f"{resource['id']}: unresolved {reference}"


def test_sample_resource_ids_unique_across_samples():
    seen: dict[str, str] = {}
    for path in sorted(SAMPLES.glob("*.json")) + sorted((SAMPLES / "drafts").glob("*.json")):
        for resource in _resources(_load(path)):
            key = f"{resource['resourceType']}/{resource['id']}"
            assert key not in seen, f"{key} in {path.name} and {seen[key]}"
            seen[key] = path.name


def test_case_resource_ids_unique_across_cases():
    seen: dict[str, str] = {}
    for path in sorted(CASES.glob("*.json")):
        for resource in _resources(_load(path)):
            key = f"{resource['resourceType']}/{resource['id']}"
            assert key not in seen, f"{key} in {path.name} and {seen[key]}"
            seen[key] = path.name


def test_index_lists_every_sample_and_its_files_exist():
    index = _index()["samples"]
    ids = [item["id"] for item in index]
    assert len(ids) == len(set(ids))
    listed = set()
    for item in index:
        assert item.get("title") and item.get("rules"), item["id"]
        file = SAMPLES / item["file"]
        assert file.exists(), item["file"]
        listed.add(file.name)
        pid = next(r["id"] for r in _resources(_load(file)) if r["resourceType"] == "Patient")
        assert pid == item["id"]
        if item.get("draft"):
            assert (SAMPLES / item["draft"]).exists(), item["draft"]
        for rule in item["rules"]:
            assert rule in ALL_RULES or rule == SCOPE, f"{item['id']}: unknown rule {rule}"
    assert listed == {p.name for p in SAMPLES.glob("*.json")}, "every sample file is listed in index.yaml"
    drafts = {(SAMPLES / i["draft"]).resolve() for i in index if i.get("draft")}
    assert drafts == {p.resolve() for p in (SAMPLES / "drafts").glob("*.json")}


def test_samples_walk_every_therapy_rule_and_show_the_others():
    covered = {rule for item in _index()["samples"] for rule in item["rules"]}
    missing = [r for r in THERAPY_RULES if r not in covered]
    assert not missing, f"therapy rules without a sample: {missing}"
    missing = [r for r in X_RULES + F_RULES + ORDER_RULES if r not in covered]
    assert not missing, f"rules not shown by any sample: {missing}"


def test_expectations_are_well_formed():
    expectations = _expectations()
    assert set(expectations) == {p.name for p in CASES.glob("*.json")}, "one entry per case file"
    for name, exp in expectations.items():
        assert set(exp) <= EXPECTATION_KEYS, f"{name}: unknown keys {set(exp) - EXPECTATION_KEYS}"
        assert exp["rule"] in ALL_RULES or exp["rule"] == SCOPE, name
        assert set(exp.get("expect_rules", [])) <= set(ALL_RULES), name
        assert exp["hook"] in ("patient-view", "order-sign"), name
        assert str(exp["today"]) == "2026-11-28", name
        assert exp.get("why"), name
        if exp["hook"] == "order-sign":
            assert exp.get("draft"), f"{name}: order-sign needs a draft"
        if exp.get("draft"):
            assert (CASES / exp["draft"]).exists(), f"{name}: {exp['draft']} missing"
        topics = set(exp.get("expect_topics", [])) | set(exp.get("absent_topics", []))
        topics |= set(exp.get("expect_any_topics", [])) | set(exp.get("indicators", {}))
        topics |= set(exp.get("suggestions", {}))
        assert topics <= TOPICS, f"{name}: unknown topics {topics - TOPICS}"
        assert not set(exp.get("expect_topics", [])) & set(exp.get("absent_topics", [])), name
        for topic, indicator in exp.get("indicators", {}).items():
            assert indicator in ("info", "warning", "critical"), name
            assert topic in exp["expect_topics"], f"{name}: indicator for a topic not expected"
        for topic, kinds in exp.get("suggestions", {}).items():
            assert set(kinds) <= SUGGESTION_KINDS, name
            assert topic in exp["expect_topics"], f"{name}: suggestion for a topic not expected"
        if exp.get("no_cards"):
            assert not exp.get("expect_topics") and not exp.get("expect_any_topics"), name


def test_vignettes_cover_every_rule():
    covered = {exp["rule"] for exp in _expectations().values()}
    missing = [r for r in ALL_RULES if r not in covered]
    assert not missing, f"rules without a vignette: {missing}"
    for rule in ALL_RULES:  # the conventional file name exists for each rule id
        assert (CASES / f"{rule}.json").exists(), f"missing tests/vignettes/cases/{rule}.json"


def test_order_sign_vignettes_cover_medication_encodings():
    """Drafts coded by text only, by ATC only, and through medicationReference (contained and in the record)."""
    seen = set()
    for exp in _expectations().values():
        if not exp.get("draft"):
            continue
        for order in _resources(_load(CASES / exp["draft"])):
            concept = order.get("medicationCodeableConcept")
            if isinstance(concept, dict) and not concept.get("coding"):
                seen.add("text-only")
            codings = concept.get("coding") if isinstance(concept, dict) else None
            if isinstance(codings, list) and codings and all(
                    c.get("system") == "http://www.whocc.no/atc" for c in codings):
                seen.add("atc-only")
            reference = (order.get("medicationReference") or {}).get("reference", "")
            if reference.startswith("#"):
                seen.add("contained")
            elif reference:
                seen.add("record")
            if order["resourceType"] == "ServiceRequest":
                seen.add("service-request")
    assert seen >= {"text-only", "atc-only", "contained", "record", "service-request"}, seen


def _hostile_features(node) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("coding"), dict):
            yield "coding-object"
        if isinstance(node.get("value"), str) and "unit" in node:
            yield "decimal-string"
        if node.get("resourceType") == "MedicationRequest" and "intent" not in node:
            yield "missing-intent"
        for value in node.values():
            yield from _hostile_features(value)
    elif isinstance(node, list):
        for item in node:
            yield from _hostile_features(item)


def test_hostile_vignettes_are_really_hostile():
    """A case marked hostile carries data a strict parser rejects (so the marker is not an escape hatch)."""
    features = set()
    for name, exp in _expectations().items():
        if not exp.get("hostile"):
            continue
        found = set(_hostile_features(_load(CASES / name)))
        if exp.get("draft"):
            found |= set(_hostile_features(_load(CASES / exp["draft"])))
        assert found, f"{name} is marked hostile but looks valid"
        features |= found
    assert features >= {"coding-object", "decimal-string"}
