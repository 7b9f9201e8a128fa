"""Generated hostile FHIR for the fuzz tests and bench/fuzz_run.py (audit issue 13, finding 3).

What the auditor's 873 x 500 came from, as strategies: JSON nested deeper than the parsers or the
interpreter's stack allow, integers of hundreds of digits (with and without a comparator, as valueInteger,
in ranges and reference ranges, as strings), and references built to lead the EHR's token elsewhere.
`to_json` writes a drawn value as JSON text, replacing each DEEP marker by objects nested that deep
(json.dumps cannot write them itself).
"""

from __future__ import annotations

import json
import re

from hypothesis import strategies as st

from tests.unit.core.fhir_builders import PATIENT_ID

DEPTHS = (40, 300, 1_000, 1_023, 1_025, 3_000)
_MARK = "@@deep-{}@@"
_MARK_RE = re.compile(r'"@@deep-(\d+)@@"')
HUGE_INTS = (10**400, -(10**400), int("9" * 401), 2**64, -(2**63) - 1, 10**4000)
LAB_CODES = ("9811-1", "2333-3", "1695-6", "2345-7", "777-3", "4548-4", "17861-6", "33558-8", "62238-1",
             "29593-1", "89243-0", "89247-1")
HOSTILE_REFERENCES = ("Medication/../../admin/x", "Medication/..;/..;/admin", "Medication/..%2fadmin",
                      "Medication/%2e%2e/admin", "Medication/x?y=../../admin", "Medication/x#/../../admin",
                      "Medication/..", "Medication/x;a=b", "https://attacker.example/fhir/Medication/x",
                      "//attacker.example/x", "Medication/" + "a" * 70, "Medication/ok-1", "#contained",
                      "Medication/x\\..\\admin", "Medication/%00")


def to_json(value: object) -> str:
    return _MARK_RE.sub(lambda m: '{"a":' * int(m[1]) + "1" + "}" * int(m[1]), json.dumps(value))


deep = st.sampled_from(DEPTHS).map(_MARK.format)
huge = st.sampled_from(HUGE_INTS)
numberish = (huge | st.integers(-10, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
             | st.sampled_from(["9" * 401, "1e999", "-1e999", "12,5", "<5", "NaN", "Infinity", "0x10"]))
quantities = st.fixed_dictionaries({"value": numberish}, optional={
    "comparator": st.sampled_from(["<", "<=", ">", ">=", "ad", ""]), "unit": st.sampled_from(["%", "ng/mL", "1", ""]),
    "code": st.sampled_from(["%", "ng/mL"]), "extension": deep.map(lambda d: [{"url": "x", "_x": d}])})
values = st.one_of(
    quantities.map(lambda q: {"valueQuantity": q}),
    numberish.map(lambda n: {"valueInteger": n}),
    st.tuples(quantities, quantities).map(lambda lh: {"valueRange": {"low": lh[0], "high": lh[1]}}),
    st.sampled_from(["9" * 401 + " %", "<" + "9" * 401, "1" * 400 + "-" + "2" * 400, "Ki-67: 1e999 %"]).map(
        lambda t: {"valueString": t}),
)


@st.composite
def lab_observations(draw: st.DrawFn) -> dict:
    resource = {"resourceType": "Observation", "id": f"hostile-{draw(st.integers(0, 99))}", "status": "final",
                "subject": {"reference": f"Patient/{PATIENT_ID}"},
                "code": {"coding": [{"system": "http://loinc.org", "code": draw(st.sampled_from(LAB_CODES))}]},
                "effectiveDateTime": draw(st.sampled_from(["2026-10-02", "2026-11-30T08:00:00Z", "99999-01-01"])),
                **draw(values)}
    if draw(st.booleans()):
        resource["referenceRange"] = [{"low": draw(quantities), "high": draw(quantities)}]
    if draw(st.booleans()):
        resource["extension"] = [{"url": "http://example.org/x", "valueString": "x", "_x": draw(deep)}]
    return resource


@st.composite
def medication_uses(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["MedicationRequest", "MedicationStatement", "MedicationAdministration"]))
    resource = {"resourceType": kind, "id": f"m-{draw(st.integers(0, 99))}", "status": "active",
                "intent": "order", "subject": {"reference": f"Patient/{PATIENT_ID}"}, "authoredOn": "2026-09-01",
                "medicationReference": {"reference": draw(st.sampled_from(HOSTILE_REFERENCES))}}
    if draw(st.booleans()):
        resource["dosageInstruction"] = [{"timing": {"repeat": {"frequency": draw(numberish),
                                                                "period": draw(numberish)}}}]
    return resource


deep_resources = st.builds(
    lambda kind, where, marker: {"resourceType": kind, "id": "deep", "subject": {"reference": f"Patient/{PATIENT_ID}"},
                                 where: marker},
    st.sampled_from(["Observation", "Condition", "Procedure", "DiagnosticReport", "Patient", "Medication"]),
    st.sampled_from(["code", "extension", "note", "valueCodeableConcept", "component", "contained"]), deep)
hostile_resources = lab_observations() | medication_uses() | deep_resources


@st.composite
def hostile_bundles(draw: st.DrawFn) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": r} for r in draw(st.lists(hostile_resources, max_size=4))]}
    if draw(st.integers(0, 4)) == 0:
        bundle["link"] = [{"relation": "next", "url": draw(st.sampled_from(
            ["https://ehr.example.org/fhir/..;/admin", "https://ehr.example.org/admin?x", "/fhir/Observation?p=2",
             "https://ehr.example.org/fhir/Observation?page=2", "https://attacker.example/fhir"]))}]
    return bundle


# What a hostile FHIR server may answer: hostile Bundles or resources, deep or huge JSON, or not JSON at all.
server_answers = st.one_of(
    hostile_bundles().map(to_json),
    hostile_resources.map(to_json),
    st.sampled_from(DEPTHS).map(lambda d: "[" * d + "]" * d),
    huge.map(lambda n: json.dumps({"resourceType": "Bundle", "type": "searchset", "total": n, "entry": n})),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)
