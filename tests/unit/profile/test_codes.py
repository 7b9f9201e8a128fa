"""Code lists in mappings/ (net-decision-model.md section 2: match by (system, code), common spellings)."""

from __future__ import annotations

import pytest
import yaml

from cds_service.profile.codes import MAPPING_FILES, MAPPINGS_DIR, STATUSES, codings, index, load_all, system_key


@pytest.mark.parametrize("spelling", [
    "http://loinc.org", "https://loinc.org", "http://loinc.org/", "2.16.840.1.113883.6.1",
    "urn:oid:2.16.840.1.113883.6.1", "  http://LOINC.org  ",
])
def test_loinc_system_spellings(spelling: str) -> None:
    assert system_key(spelling) == "loinc"


@pytest.mark.parametrize(("spelling", "key"), [
    ("http://hl7.org/fhir/sid/icd-10-cm", "icd-10-cm"),
    ("urn:oid:2.16.840.1.113883.6.90", "icd-10-cm"),
    ("2.16.840.1.113883.6.90", "icd-10-cm"),
    ("https://hl7.org/fhir/sid/icd-10-cm/", "icd-10-cm"),
    ("http://snomed.info/sct", "snomed"),
    ("urn:oid:2.16.840.1.113883.6.96", "snomed"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "rxnorm"),
    ("https://www.nlm.nih.gov/research/umls/rxnorm/", "rxnorm"),
    ("urn:oid:2.16.840.1.113883.6.88", "rxnorm"),
    ("http://www.whocc.no/atc", "atc"),
    ("https://whocc.no/atc/", "atc"),
    ("http://terminology.hl7.org/CodeSystem/icd-o-3", "icd-o-3"),
    ("https://cap.org/eCC", "cap-ecc"),
])
def test_common_system_spellings(spelling: str, key: str) -> None:
    assert system_key(spelling) == key


def test_unknown_or_missing_system_matches_nothing() -> None:
    assert system_key("http://example.org/local") is None
    assert system_key(None) is None
    assert index("conditions").match(codings({"coding": [{"code": "C25.4"}]})) == []


def test_every_mapping_entry_has_system_code_display_and_status() -> None:
    for name, idx in load_all().items():
        assert name in MAPPING_FILES
        for e in idx.entries:
            assert e.system and e.code and e.display and e.status in STATUSES, (name, e)
            assert all(v is not None for v in e.attrs.values()), (name, e)
            assert "source" not in e.attrs, (name, e)  # provenance only, never a rule attribute


def _raw_entries() -> list[tuple[str, dict]]:
    """(file, entry) for every coded entry, read from the YAML as written (keeps `source`)."""
    out = []
    for name in MAPPING_FILES:
        data = yaml.safe_load((MAPPINGS_DIR / f"{name}.yaml").read_text(encoding="utf-8")) or {}
        for spec in (data.get("concepts") or {}).values():
            out.extend((name, item) for item in spec.get("codes") or ())
    return out


# Entries moved from U to V/V2 by the code verification pass (file -> codes/prefixes as written in the YAML);
# each must name where it was seen.
VERIFIED_WITH_SOURCE = {
    "conditions": {"15776009", "69695003", "38848004", "21306003", "34516001", "30315005", "66754008", "32713005",
                   "71854001", "34402009", "39607008", "9875009", "13645005", "195967001", "233703007", "J44", "J45",
                   "J84", "J43", "E21.0", "E21.3", "E83.52", "D35.2", "D35.0", "E27.8", "36348003", "66999008",
                   "66931009", "254956000"},
    "observations": {"718-7", "6690-2", "2160-0"},
    "medications": {"H01CB03", "H01CB05", "V10XX04", "L01EG02", "L01XE10", "L01EX01", "L01XE04", "L01EX07",
                    "L01XE26", "L01BC06", "L01AD04", "L01XA01", "L01XA02", "L01CB01", "L01CE02", "A16AX15",
                    "V03AH01", "7617"},
    "procedures": {"48150", "48153", "48140", "48145", "48146", "48155", "48120", "44120", "44140", "44160", "44202",
                   "44204", "44205", "23968004"},
    "imaging": {"A9572"},
}


def test_every_verified_entry_added_in_the_verification_pass_names_its_source() -> None:
    seen: dict[str, set[str]] = {name: set() for name in VERIFIED_WITH_SOURCE}
    for name, item in _raw_entries():
        code = str(item.get("code", item.get("prefix")))
        if code in VERIFIED_WITH_SOURCE.get(name, ()):
            seen[name].add(code)
            assert item["status"] in {"V", "V2"}, (name, item)
            assert isinstance(item.get("source"), str) and item["source"].strip(), (name, item)
    assert seen == VERIFIED_WITH_SOURCE


def test_a_source_key_only_on_verified_entries_and_never_empty() -> None:
    for name, item in _raw_entries():
        if "source" in item:
            assert item["status"] in {"V", "V2"}, (name, item)
            assert isinstance(item["source"], str) and item["source"].strip(), (name, item)


@pytest.mark.parametrize("code", ["D35.00", "D35.01", "D35.02", "D35.0"])
def test_adrenal_benign_neoplasm_codes_are_an_men1_feature(code: str) -> None:
    """D35.0 is a non-billable ICD-10-CM header; records carry D35.00/.01/.02."""
    assert [e.get("feature") for e in _match(ICD, code) if e.concept == "men1_feature"] == ["adrenal-nodule"]


ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _match(system: str, code: str, file: str = "conditions") -> list:
    return index(file).match(codings({"coding": [{"system": system, "code": code}]}))


def _concepts(system: str, code: str, file: str = "conditions") -> set[str]:
    return {e.concept for e in _match(system, code, file)}


@pytest.mark.parametrize("code", ["C7A.012", "C7A012", "c7a.012"])
def test_icd10_codes_compare_without_dots_and_case(code: str) -> None:
    entries = _match("urn:oid:2.16.840.1.113883.6.90", code)
    assert [e.get("site") for e in entries if e.concept == "nen"] == ["ileum"]


def test_icd10_prefix_family_c7a0_covers_unlisted_codes() -> None:
    entries = _match(ICD, "C7A.099")
    assert [(e.concept, e.get("differentiation")) for e in entries] == [("nen", "NET")]


@pytest.mark.parametrize("code", ["E34.0", "E34.00", "E34.01", "E34.09"])
def test_carcinoid_syndrome_e340_prefix(code: str) -> None:
    assert "syndrome" in _concepts("http://hl7.org/fhir/sid/icd-10-cm", code)


def test_e341_is_not_carcinoid_syndrome() -> None:
    entries = _match(ICD, "E34.1")
    assert [e.get("syndrome") for e in entries] == ["vipoma"]


def test_exact_code_and_prefix_of_another_concept_both_match() -> None:
    assert _concepts("http://hl7.org/fhir/sid/icd-10-cm", "C7B.02") == {"metastasis", "secondary_nen"}


def test_merkel_secondary_c7b1_is_not_a_net_metastasis() -> None:
    assert _concepts("http://hl7.org/fhir/sid/icd-10-cm", "C7B.1") == set()


@pytest.mark.parametrize(("code", "therapy"), [("A02BC05", "ppi"), ("A02BC", "ppi"), ("H01CB02", "ssa"),
                                               ("H01CB99", "ssa"), ("l01eg02", "everolimus")])
def test_atc_codes_and_class_prefixes(code: str, therapy: str) -> None:
    entries = index("medications").match(codings({"coding": [{"system": "http://www.whocc.no/atc", "code": code}]}))
    assert {e.get("therapy") for e in entries} == {therapy}


def test_h2_blocker_atc_is_not_a_ppi() -> None:
    assert _match("http://www.whocc.no/atc", "A02BA03", "medications") == []


@pytest.mark.parametrize("code", ["8240/3", "82403", "M-8240/3", "M8240/3"])
def test_icdo3_spellings(code: str) -> None:
    e = index("morphology").first(codings({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.43.1", "code": code}]}))
    assert e is not None and e.get("differentiation") == "NET"


def test_codings_tolerates_single_object_and_junk() -> None:
    assert codings({"coding": {"system": "http://loinc.org", "code": "29593-1"}}) == [("loinc", "29593-1", None)]
    assert codings({"coding": ["junk", 3, None, {"code": 5, "system": "http://loinc.org"}]}) == [("loinc", "5", None)]
    assert codings("C25.4") == [] and codings(None) == [] and codings([{"coding": []}]) == []


def test_text_rules_exist_only_where_the_model_allows_them() -> None:
    """Ki-67 has no text rule that is used (only a look-alike note); mitoses text 'mitotic' is allowed."""
    obs = index("observations")
    assert obs.text("observation", "mitotic rate") is not None
    assert obs.text("observation", "ki-67 index") is None


SCT = "http://snomed.info/sct"


@pytest.mark.parametrize("code", ["359571009", "68341005"])
def test_snomed_codes_that_mean_something_else_are_not_resections(code: str) -> None:
    """359571009 is right hemicolectomy (not a Whipple) and 68341005 home hemodialysis supervision (not a
    pancreatectomy); both were removed from procedures.yaml by the verification pass."""
    assert _match(SCT, code, "procedures") == []


def test_right_hemicolectomy_is_still_a_resection_by_its_display_text() -> None:
    rule = index("procedures").text("resection", "right hemicolectomy")
    assert rule is not None and rule.get("resection") == "colon-resection"
