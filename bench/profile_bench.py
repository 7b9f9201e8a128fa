"""Benchmark: build_profile on a realistic synthetic record of 1,000 resources (issue 3).

Mostly irrelevant vitals, routine labs, conditions, drugs, procedures and lab-panel reports (as an EHR
prefetch returns them), plus the NET data: NEN
conditions, Ki-67 and mitoses, SSTR-PET and SRS, SSA and PRRT history, CrCl, KPS, CgA, platelets.
Run: .venv/bin/python bench/profile_bench.py [--iterations 200] [--resources 1000] [--fresh]
--fresh: each iteration builds the profile of a record parsed anew from JSON (as each request does), so
caches keyed by the resources' own objects and a warm CPU cache do not flatter the figure.
Target (issue 3): median < 20 ms on the 2-core build machine. Never asserted in tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.fhir.record import PatientRecord  # noqa: E402
from cds_service.fhir.systems import FINDINGS, ICD10, LOINC, SCT  # noqa: E402
from cds_service.profile import build_profile  # noqa: E402
from cds_service.profile.codes import load_all  # noqa: E402

TODAY = date(2026, 11, 28)
PID = "bench-patient"
VITALS = [("8867-4", "Heart rate", "/min", 60, 100), ("8480-6", "Systolic blood pressure", "mm[Hg]", 100, 160),
          ("8462-4", "Diastolic blood pressure", "mm[Hg]", 60, 95), ("29463-7", "Body weight", "kg", 55, 95),
          ("8310-5", "Body temperature", "Cel", 36, 38), ("9279-1", "Respiratory rate", "/min", 12, 20),
          ("2708-6", "Oxygen saturation", "%", 92, 100)]
LABS = [("2951-2", "Sodium", "mmol/L", 135, 145), ("2823-3", "Potassium", "mmol/L", 3.5, 5.0),
        ("2160-0", "Creatinine", "mg/dL", 0.6, 1.3), ("1742-6", "ALT", "U/L", 10, 50),
        ("1920-8", "AST", "U/L", 10, 45), ("718-7", "Hemoglobin", "g/dL", 11, 16),
        ("6690-2", "Leukocytes", "10*3/uL", 4, 10), ("2345-7", "Glucose", "mg/dL", 70, 140),
        ("777-3", "Platelets", "10*3/uL", 150, 400), ("1975-2", "Bilirubin", "mg/dL", 0.2, 1.2)]


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _obs(rid: str, code: str, display: str, value: object, unit: str | None, days_ago: int,
         system: str = LOINC, category: str = "laboratory") -> dict:
    resource = {"resourceType": "Observation", "id": rid, "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": category}]}],
                "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
                "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": _day(days_ago)}
    if isinstance(value, bool):
        resource["valueBoolean"] = value
    elif isinstance(value, (int, float)):
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    else:
        resource["valueString"] = value
    return resource


def net_resources() -> list[dict]:
    cond = {"resourceType": "Condition", "id": "si-net", "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]},
            "code": {"coding": [{"system": ICD10, "code": "C7A.012"}], "text": "NET of ileum"},
            "subject": {"reference": f"Patient/{PID}"}, "onsetDateTime": _day(900)}
    mets = {"resourceType": "Condition", "id": "liver-mets", "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": ICD10, "code": "C7B.02"}]}, "onsetDateTime": _day(900)}
    syndrome = {"resourceType": "Condition", "id": "cs", "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": SCT, "code": "35868009"}]}, "onsetDateTime": _day(900)}
    htn = {"resourceType": "Condition", "id": "htn", "clinicalStatus": {"coding": [{"code": "active"}]},
           "code": {"coding": [{"system": ICD10, "code": "I10"}]}, "onsetDateTime": _day(3000)}
    pet = {"resourceType": "DiagnosticReport", "id": "pet", "status": "final",
           "code": {"text": "Ga-68 DOTATATE PET/CT"}, "effectiveDateTime": _day(30),
           "conclusionCode": [{"coding": [{"system": SCT, "code": "10828004"}]}]}
    srs = {"resourceType": "DiagnosticReport", "id": "srs", "status": "final", "code": {"text": "OctreoScan"},
           "effectiveDateTime": _day(800), "conclusion": "Krenning score 3"}
    lar = {"resourceType": "MedicationStatement", "id": "lar", "status": "active",
           "medicationCodeableConcept": {"text": "octreotide LAR 30 mg"}, "effectivePeriod": {"start": _day(850)}}
    prrt = [{"resourceType": "MedicationAdministration", "id": f"prrt-{i}", "status": "completed",
             "medicationCodeableConcept": {"text": "Lutathera 7.4 GBq"}, "effectiveDateTime": _day(700 - 56 * i)}
            for i in range(4)]
    return [cond, mets, syndrome, htn, pet, srs, lar, *prrt,
            _obs("ki67", "29593-1", "Ki-67", 12, "%", 880), _obs("ki67-met", "29593-1", "Ki-67", "8-12 %", None, 860),
            _obs("mit", "mitotic-count", "Mitotic count", 3, "/2mm2", 880, FINDINGS),
            _obs("crcl", "35591-7", "CrCl", 72, "mL/min", 20), _obs("kps", "89243-0", "KPS", 80, None, 20),
            _obs("cga", "9811-1", "CgA", 350, "ng/mL", 20),
            _obs("burden", "tumor-burden", "Tumor burden", "high", None, 25, FINDINGS, "exam"),
            _obs("status", "97509-4", "Disease status", None, None, 25)]


OTHER_CONDITIONS = [("E78.5", "Hyperlipidemia"), ("K21.9", "GERD"), ("M17.11", "Osteoarthritis of right knee"),
                    ("F41.1", "Generalized anxiety disorder"), ("E03.9", "Hypothyroidism"),
                    ("J30.9", "Allergic rhinitis")]
OTHER_DRUGS = [("860975", "metformin 500 MG Oral Tablet"), ("617312", "atorvastatin 40 MG Oral Tablet"),
               ("314076", "lisinopril 10 MG Oral Tablet"), ("966247", "levothyroxine 50 MCG Oral Tablet"),
               ("197361", "amlodipine 5 MG Oral Tablet"), ("313782", "acetaminophen 325 MG Oral Tablet")]
OTHER_PROCEDURES = ["Colonoscopy", "Venipuncture", "Influenza vaccination", "CT abdomen with contrast",
                    "Echocardiography", "Upper GI endoscopy"]
PANELS = [("58410-2", "CBC panel"), ("24323-8", "Comprehensive metabolic panel"), ("24331-1", "Lipid panel")]


def _padding(i: int, rng: random.Random) -> dict:
    """One irrelevant-but-prefetched resource: 60 % vitals/labs, 10 % conditions, 12 % medication requests,
    8 % procedures, 10 % lab-panel reports (a mix like the service benchmark's, bench/records.py)."""
    roll = i % 50
    when = _day(rng.randint(0, 1500))
    if roll < 30:
        code, display, unit, low, high = rng.choice(VITALS if i % 2 else LABS)
        return _obs(f"o{i}", code, display, round(rng.uniform(low, high), 1), unit, rng.randint(0, 1500),
                    category="vital-signs" if i % 2 else "laboratory")
    if roll < 35:
        code, display = rng.choice(OTHER_CONDITIONS)
        return {"resourceType": "Condition", "id": f"c{i}", "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": ICD10, "code": code}], "text": display}, "onsetDateTime": when}
    if roll < 41:
        code, display = rng.choice(OTHER_DRUGS)
        return {"resourceType": "MedicationRequest", "id": f"m{i}", "status": rng.choice(["active", "completed"]),
                "intent": "order", "authoredOn": when,
                "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                          "code": code, "display": display}], "text": display}}
    if roll < 45:
        return {"resourceType": "Procedure", "id": f"pr{i}", "status": "completed",
                "code": {"text": rng.choice(OTHER_PROCEDURES)}, "performedDateTime": when}
    code, display = rng.choice(PANELS)
    return {"resourceType": "DiagnosticReport", "id": f"dr{i}", "status": "final", "effectiveDateTime": when,
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}}


def synthetic_record(n: int = 1000, seed: int = 7) -> PatientRecord:
    rng = random.Random(seed)
    record = PatientRecord(patient_id=PID)
    record.add({"resourceType": "Patient", "id": PID, "birthDate": "1960-04-02", "gender": "female"})
    for r in net_resources():
        record.add(r)
    i = 0
    while len(record.resources) < n:
        record.add(_padding(i, rng))
        i += 1
    return record


def _record_of(resources: list[dict]) -> PatientRecord:
    record = PatientRecord(patient_id=PID)
    for resource in resources:
        record.add(resource)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="a record parsed anew from JSON per iteration")
    args = parser.parse_args()
    load_all()  # start-up work, as in the service
    record = synthetic_record(args.resources)
    build_profile(record, TODAY)  # warm caches, as a running service has them
    as_json = json.dumps(record.resources)
    times = []
    for _ in range(args.iterations):
        if args.fresh:
            record = _record_of(json.loads(as_json))
            gc.disable()  # the service pauses the GC during a request (web/gc_pause.py)
        start = time.perf_counter()
        build_profile(record, TODAY)
        times.append((time.perf_counter() - start) * 1000)
        gc.enable()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"build_profile, {len(record.resources)} resources{' (fresh)' if args.fresh else ''}, "
          f"{args.iterations} iterations: "
          f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, min {times[0]:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
