"""Deterministic benchmark records: a sample NET patient padded to exactly N prefetched resources.

The padding is realistic, irrelevant-but-prefetched chart data: years of older routine labs of the
codes the `labs` prefetch query fetches (CgA, glucose, platelets, creatinine clearance, HbA1c,
calcium), resolved and chronic unrelated Conditions, MedicationRequests of unrelated drugs,
routine Procedures and lab-panel DiagnosticReports. Every padded resource matches one of the
service's prefetch templates, so the prefetch really carries N resources. Seeded: same input, same
bytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from typing import Any

from cds_service.fhir.systems import ICD10, LOINC, RXNORM, SCT, UCUM
from cds_service.samples import get_sample
from cds_service.services.registry import CdsService, load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

# (LOINC code, display, unit, low, high, decimals): routine labs of codes the `labs` query fetches.
LABS = [
    ("9811-1", "Chromogranin A [Mass/volume] in Serum or Plasma", "ng/mL", 60, 140, 0),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 78, 118, 0),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L", 170, 340, 0),
    ("35591-7", "Creatinine renal clearance predicted by Cockcroft-Gault formula", "mL/min", 78, 104, 0),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 5.0, 5.9, 1),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.8, 10.1, 1),
]
# (ICD-10-CM code, display, chronic?): unrelated to NET.
CONDITIONS = [
    ("I10", "Essential (primary) hypertension", True),
    ("E78.5", "Hyperlipidemia, unspecified", True),
    ("M19.90", "Unspecified osteoarthritis, unspecified site", True),
    ("J06.9", "Acute upper respiratory infection, unspecified", False),
    ("N39.0", "Urinary tract infection, site not specified", False),
    ("M54.50", "Low back pain, unspecified", False),
    ("S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter", False),
    ("L30.9", "Dermatitis, unspecified", False),
]
# (RxNorm code, display, dosage text): unrelated drugs (no PPI, SSA, everolimus, sunitinib).
DRUGS = [
    ("29046", "lisinopril", "10 mg by mouth once daily"),
    ("83367", "atorvastatin", "20 mg by mouth at bedtime"),
    ("723", "amoxicillin", "500 mg by mouth three times daily for 7 days"),
    ("5640", "ibuprofen", "400 mg by mouth every 8 hours as needed"),
    ("161", "acetaminophen", "1 g by mouth every 6 hours as needed"),
    ("20610", "cetirizine", "10 mg by mouth once daily as needed"),
]
PROCEDURES = [("82078001", "Collection of blood specimen for laboratory (procedure)"),
              ("5880005", "Physical examination procedure (procedure)")]
PANELS = [("24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma"),
          ("58410-2", "CBC panel - Blood by Automated count")]
# Share of the padding per resource type (the rest are lab Observations).
MIX = {"Condition": 0.06, "MedicationRequest": 0.10, "Procedure": 0.07, "DiagnosticReport": 0.07}


def _latest_date(bundle: dict) -> dt.date:
    dates = []
    for entry in bundle.get("entry") or ():
        value = entry["resource"].get("effectiveDateTime") or entry["resource"].get("recordedDate")
        if isinstance(value, str) and len(value) >= 10:
            dates.append(dt.date.fromisoformat(value[:10]))
    return max(dates, default=dt.date(2026, 11, 1))


def _codeable(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _lab(pid: str, index: int, day: dt.date, rng: random.Random) -> dict:
    code, display, unit, low, high, decimals = LABS[index % len(LABS)]
    value = round(rng.uniform(low, high), decimals) if decimals else int(rng.uniform(low, high))
    return {
        "resourceType": "Observation", "id": f"{pid}-pad-obs-{index:05d}", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory", "display": "Laboratory"}]}],
        "code": _codeable(LOINC, code, display), "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day.isoformat(), "issued": f"{day.isoformat()}T15:00:00Z",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _condition(pid: str, index: int, day: dt.date) -> dict:
    code, display, chronic = CONDITIONS[index % len(CONDITIONS)]
    status = "active" if chronic else "resolved"
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": f"{pid}-pad-cond-{index:05d}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": status}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "encounter-diagnosis"}]}],
        "code": _codeable(ICD10, code, display), "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": day.isoformat(), "recordedDate": day.isoformat(),
    }
    if not chronic:
        resource["abatementDateTime"] = (day + dt.timedelta(days=10)).isoformat()
    return resource


def _medication_request(pid: str, index: int, day: dt.date) -> dict:
    code, display, dose = DRUGS[index % len(DRUGS)]
    return {
        "resourceType": "MedicationRequest", "id": f"{pid}-pad-medrx-{index:05d}", "status": "completed",
        "intent": "order", "medicationCodeableConcept": _codeable(RXNORM, code, display),
        "subject": {"reference": f"Patient/{pid}"}, "authoredOn": day.isoformat(),
        "dosageInstruction": [{"text": dose}],
    }


def _procedure(pid: str, index: int, day: dt.date) -> dict:
    code, display = PROCEDURES[index % len(PROCEDURES)]
    return {
        "resourceType": "Procedure", "id": f"{pid}-pad-proc-{index:05d}", "status": "completed",
        "code": _codeable(SCT, code, display), "subject": {"reference": f"Patient/{pid}"},
        "performedDateTime": day.isoformat(),
    }


def _report(pid: str, index: int, day: dt.date) -> dict:
    code, display = PANELS[index % len(PANELS)]
    return {
        "resourceType": "DiagnosticReport", "id": f"{pid}-pad-dr-{index:05d}", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": _codeable(LOINC, code, display), "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day.isoformat(), "issued": f"{day.isoformat()}T16:00:00Z",
        "conclusion": "Within normal limits.",
    }


_MAKERS = {"Condition": _condition, "MedicationRequest": _medication_request, "Procedure": _procedure,
           "DiagnosticReport": _report}


def prefetch_count(prefetch: dict) -> int:
    """How many resources a prefetch carries (Bundle entries plus read resources)."""
    count = 0
    for value in prefetch.values():
        if isinstance(value, dict):
            count += len(value.get("entry") or ()) if value.get("resourceType") == "Bundle" else 1
    return count


def padded_bundle(sample_id: str, total: int, service: CdsService, seed: int = 7) -> dict:
    """The sample's Bundle plus padding so that `service`'s prefetch carries exactly `total` resources."""
    sample = get_sample(sample_id)
    bundle = copy.deepcopy(sample.bundle())
    base = prefetch_count(prefetch_from_bundle(service, bundle, sample_id))
    padding = total - base
    if padding < 0:
        raise ValueError(f"{sample_id} already prefetches {base} resources, more than {total}")
    rng = random.Random(f"{seed}:{sample_id}:{total}")
    newest = _latest_date(bundle) - dt.timedelta(days=45)  # padding is older than the sample's data
    span_days = 365 * 8
    counts = {rtype: round(padding * share) for rtype, share in MIX.items()}
    counts["Observation"] = padding - sum(counts.values())
    for rtype, count in counts.items():
        for index in range(count):
            day = newest - dt.timedelta(days=(index * span_days) // max(count, 1))
            if rtype == "Observation":
                resource = _lab(sample_id, index, day, rng)
            else:
                resource = _MAKERS[rtype](sample_id, index, day)
            bundle["entry"].append({"fullUrl": f"http://ehr.example.org/fhir/{rtype}/{resource['id']}",
                                    "resource": resource})
    got = prefetch_count(prefetch_from_bundle(service, bundle, sample_id))
    if got != total:
        raise AssertionError(f"padded prefetch carries {got} resources, not {total}")
    return bundle


def request_body(service_id: str, sample_id: str, total: int | None = None, draft: bool = False,
                 seed: int = 7) -> dict:
    """A hook request for `service_id` with full prefetch (padded to `total` resources when given)."""
    service = load_services()[service_id]
    sample = get_sample(sample_id)
    bundle = padded_bundle(sample_id, total, service, seed) if total else sample.bundle()
    prefetch = prefetch_from_bundle(service, bundle, sample_id)
    drafts = sample.draft_orders() if draft else None
    if draft and drafts is None:
        raise ValueError(f"{sample_id} has no draft orders in samples/index.yaml")
    body = hook_request(service, sample_id, prefetch=prefetch, draft_orders=drafts)
    rng = random.Random(f"{seed}:{service_id}:{sample_id}:{total}")
    body["hookInstance"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))  # deterministic bytes
    return body
