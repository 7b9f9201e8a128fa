"""Generate the synthetic FHIR R4 data in samples/ and tests/vignettes/cases/ (run from anywhere).

Encoding follows net-decision-model.md section 2 and codes.md (verified codes preferred). Every
resource gets an id prefixed with the patient id, a status, a subject reference and a date.
Usage: .venv/bin/python tools/make_samples.py  (rewrites samples/ and the vignette cases).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from cds_service.fhir.systems import (
    ATC,
    CAP,
    COND_CAT,
    COND_CLIN,
    COND_VER,
    CPT,
    FINDINGS,
    HCPCS,
    ICD10,
    ICDO3,
    INTERP,
    LOINC,
    MCODE_HISTOLOGY,
    OBS_CAT,
    RXNORM,
    SCT,
    UCUM,
)

TIMING_ABBR = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
BASE = "http://ehr.example.org/fhir"

# --- vocabularies (codes.md) -------------------------------------------------------------------

ICD = {
    "C25.4": "Malignant neoplasm of endocrine pancreas",
    "C7A.010": "Malignant carcinoid tumor of the duodenum",
    "C7A.011": "Malignant carcinoid tumor of the jejunum",
    "C7A.012": "Malignant carcinoid tumor of the ileum",
    "C7A.020": "Malignant carcinoid tumor of the appendix",
    "C7A.026": "Malignant carcinoid tumor of the rectum",
    "C7A.092": "Malignant carcinoid tumor of the stomach",
    "C7A.090": "Malignant carcinoid tumor of the bronchus and lung",
    "C7A.1": "Malignant poorly differentiated neuroendocrine tumors",
    "C7B.01": "Secondary carcinoid tumors of distant lymph nodes",
    "C7B.02": "Secondary carcinoid tumors of liver",
    "C7B.03": "Secondary carcinoid tumors of bone",
    "C7B.04": "Secondary carcinoid tumors of peritoneum",
    "C78.7": "Secondary malignant neoplasm of liver and intrahepatic bile duct",
    "E34.0": "Carcinoid syndrome",
    "E34.00": "Carcinoid syndrome, unspecified",
    "E34.1": "Other hypersecretion of intestinal hormones",
    "E16.1": "Other hypoglycemia",
    "E16.3": "Increased secretion of glucagon",
    "E16.4": "Increased secretion of gastrin",
    "E31.21": "Multiple endocrine neoplasia [MEN] type I",
    "E21.0": "Primary hyperparathyroidism",
    "E11.9": "Type 2 diabetes mellitus without complications",
    "I10": "Essential (primary) hypertension",
    "I50.9": "Heart failure, unspecified",
    "N18.31": "Chronic kidney disease, stage 3a",
    "D68.9": "Coagulation defect, unspecified",
    "K21.9": "Gastro-esophageal reflux disease without esophagitis",
    "K29.40": "Chronic atrophic gastritis without bleeding",
}

SNOMED = {
    "443492008": "Carcinoid tumor (disorder)",
    "445238008": "Malignant carcinoid tumor (disorder)",
    "254612002": "Carcinoma of endocrine pancreas (disorder)",
    "35868009": "Carcinoid syndrome (disorder)",
    "53132006": "Zollinger-Ellison syndrome (disorder)",
    "83469008": "Hyperinsulinism (disorder)",
    "30664006": "Multiple endocrine neoplasia, type 1 (disorder)",
    "94381002": "Secondary malignant neoplasm of liver (disorder)",
    "94222008": "Secondary malignant neoplasm of bone (disorder)",
    "73211009": "Diabetes mellitus (disorder)",
    "44054006": "Diabetes mellitus type 2 (disorder)",
    "38341003": "Hypertensive disorder, systemic arterial (disorder)",
    "84114007": "Heart failure (disorder)",
    "64779008": "Blood coagulation disorder (disorder)",
    "709044004": "Chronic kidney disease (disorder)",
}

MORPHOLOGY = {
    "8240/3": "Carcinoid tumor, NOS",
    "8249/3": "Atypical carcinoid tumor",
    "8150/3": "Islet cell carcinoma",
    "8151/3": "Insulinoma, malignant",
    "8152/3": "Glucagonoma, malignant",
    "8153/3": "Gastrinoma, malignant",
    "8154/3": "Mixed pancreatic endocrine and exocrine tumor, malignant",
    "8155/3": "Vipoma, malignant",
    "8246/3": "Neuroendocrine carcinoma, NOS",
    "8013/3": "Large cell neuroendocrine carcinoma",
    "8041/3": "Small cell carcinoma, NOS",
}

BODY_SITE = {  # SNOMED body structures, for Condition.bodySite
    "pancreas": ("15776009", "Pancreatic structure"),
    "pancreas-head": ("64163001", "Structure of head of pancreas"),
    "pancreas-tail": ("73239005", "Structure of tail of pancreas"),
    "ileum": ("34516001", "Ileal structure"),
    "jejunum": ("21306003", "Jejunal structure"),
    "duodenum": ("38848004", "Duodenal structure"),
    "stomach": ("69695003", "Stomach structure"),
    "rectum": ("34402009", "Rectum structure"),
    "sigmoid-colon": ("60184004", "Sigmoid colon structure"),
    "lung": ("39607008", "Lung structure"),
}

LABS = {  # key: (loinc, display, unit, ucum)
    "cga": ("9811-1", "Chromogranin A [Mass/volume] in Serum or Plasma", "ng/mL", "ng/mL"),
    "gastrin": ("2333-3", "Gastrin [Mass/volume] in Serum or Plasma", "pg/mL", "pg/mL"),
    "5hiaa": ("1695-6", "5-Hydroxyindoleacetate [Mass/time] in 24 hour Urine", "mg/24 h", "mg/(24.h)"),
    "glucose": ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL"),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L", "10*9/L"),
    "hba1c": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%"),
    "calcium": ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL"),
    "crcl": ("35591-7", "Creatinine renal clearance predicted by Cockcroft-Gault formula", "mL/min",
             "mL/min"),
    "egfr": ("98979-8", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
             "Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)", "mL/min/1.73m2",
             "mL/min/{1.73_m2}"),
}
LAB_RANGES = {  # (low, high) reference range shown with the value
    "cga": (None, 95), "gastrin": (None, 100), "5hiaa": (2, 9), "glucose": (70, 99),
    "platelets": (150, 400), "hba1c": (4.0, 5.6), "calcium": (8.6, 10.3),
}

# Medications. coding: list of (system, code, display); text: what the EHR shows.
DRUGS = {
    "omeprazole": ([(RXNORM, "7646", "omeprazole")], "omeprazole 20 mg delayed-release oral capsule"),
    "omeprazole-40": ([(RXNORM, "7646", "omeprazole")], "omeprazole 40 mg delayed-release oral capsule"),
    "pantoprazole": ([(RXNORM, "40790", "pantoprazole")], "pantoprazole 40 mg delayed-release oral tablet"),
    "esomeprazole": ([(RXNORM, "283742", "esomeprazole")], "esomeprazole 40 mg delayed-release capsule (Nexium)"),
    "octreotide-lar": ([(RXNORM, "7617", "octreotide"), (ATC, "H01CB02", "octreotide")],
                       "octreotide LAR (Sandostatin LAR Depot) 30 mg"),
    "octreotide-sc": ([(RXNORM, "7617", "octreotide")],
                      "octreotide acetate (Sandostatin) 100 mcg/mL injection, short-acting"),
    "lanreotide": ([], "lanreotide (Somatuline Depot) 120 mg"),
    "everolimus": ([(RXNORM, "141704", "everolimus")], "everolimus (Afinitor) 10 mg oral tablet"),
    "sunitinib": ([(RXNORM, "357977", "sunitinib")], "sunitinib (Sutent) 37.5 mg oral capsule"),
    "cabozantinib": ([(RXNORM, "1363268", "cabozantinib")], "cabozantinib (Cabometyx) 60 mg oral tablet"),
    "capecitabine": ([(RXNORM, "194000", "capecitabine")], "capecitabine (Xeloda) 500 mg oral tablet"),
    "temozolomide": ([(RXNORM, "37776", "temozolomide")], "temozolomide (Temodar) 100 mg oral capsule"),
    "cisplatin": ([(RXNORM, "2555", "cisplatin")], "cisplatin 1 mg/mL injection"),
    "carboplatin": ([(RXNORM, "40048", "carboplatin")], "carboplatin 10 mg/mL injection"),
    "etoposide": ([(RXNORM, "4179", "etoposide")], "etoposide 20 mg/mL injection"),
    "diazoxide": ([(RXNORM, "3327", "diazoxide")], "diazoxide (Proglycem) 50 mg/mL oral suspension"),
    "telotristat": ([], "telotristat ethyl (Xermelo) 250 mg oral tablet"),
    "lutathera": ([(HCPCS, "A9513", "Lutetium Lu 177, dotatate, therapeutic, 1 millicurie")],
                  "lutetium Lu 177 dotatate (Lutathera) 7.4 GBq"),
}


def cc(system: str | None = None, code: str | None = None, display: str | None = None,
       text: str | None = None, extra: list[tuple[str, str, str]] | None = None) -> dict:
    """A CodeableConcept."""
    codings = []
    if system:
        coding = {"system": system, "code": code}
        if display:
            coding["display"] = display
        codings.append(coding)
    for s, c, d in extra or ():
        codings.append({"system": s, "code": c, "display": d})
    out: dict = {}
    if codings:
        out["coding"] = codings
    if text:
        out["text"] = text
    return out


def category(code: str, system: str = OBS_CAT) -> list[dict]:
    displays = {"laboratory": "Laboratory", "imaging": "Imaging", "exam": "Exam", "survey": "Survey",
                "problem-list-item": "Problem List Item", "encounter-diagnosis": "Encounter Diagnosis"}
    return [{"coding": [{"system": system, "code": code, "display": displays.get(code, code)}]}]


def qty(value: float, unit: str, code: str | None = None) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def drug_cc(drug: str, coding: str = "full", text: str | None = None) -> dict:
    """Medication CodeableConcept. coding: full | text (no coding) | atc (ATC only)."""
    codings, default_text = DRUGS[drug]
    out: dict = {}
    if coding == "full" and codings:
        out["coding"] = [{"system": s, "code": c, "display": d} for s, c, d in codings]
    elif coding == "atc":
        atc = {"omeprazole": ("A02BC01", "omeprazole"), "omeprazole-40": ("A02BC01", "omeprazole"),
               "pantoprazole": ("A02BC02", "pantoprazole"), "esomeprazole": ("A02BC05", "esomeprazole"),
               "octreotide-lar": ("H01CB02", "octreotide"), "octreotide-sc": ("H01CB02", "octreotide"),
               "lanreotide": ("H01CB03", "lanreotide"), "everolimus": ("L01EG02", "everolimus"),
               "sunitinib": ("L01EX01", "sunitinib")}[drug]
        out["coding"] = [{"system": ATC, "code": atc[0], "display": atc[1]}]
        return out  # ATC-only orders carry no text either
    out["text"] = text or default_text
    return out


def daily(times: int = 1) -> dict:
    return {"repeat": {"frequency": times, "period": 1, "periodUnit": "d"}}


def every_4_weeks() -> dict:
    return {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}}


def timing_code(code: str) -> dict:
    displays = {"QD": "QD", "BID": "BID", "TID": "TID"}
    return {"code": {"coding": [{"system": TIMING_ABBR, "code": code, "display": displays[code]}],
                     "text": code}}


class Patient:
    """Builds one patient's collection Bundle."""

    def __init__(self, pid: str, birth: str, gender: str, family: str, given: str):
        self.pid = pid
        self.ref = f"Patient/{pid}"
        self.resources: list[dict] = [{
            "resourceType": "Patient", "id": pid,
            "identifier": [{"system": "http://ehr.example.org/mrn", "value": f"MRN-{pid}"}],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "gender": gender, "birthDate": birth,
        }]
        self._counts: dict[str, int] = {}

    # -- generic ---------------------------------------------------------------------------------
    def _id(self, suffix: str) -> str:
        rid = f"{self.pid}-{suffix}"
        n = self._counts.get(rid, 0)
        self._counts[rid] = n + 1
        return rid if n == 0 else f"{rid}-{n + 1}"

    def add(self, resource: dict, suffix: str) -> str:
        resource = {"resourceType": resource.pop("resourceType"), "id": self._id(suffix), **resource}
        self.resources.append(resource)
        return f"{resource['resourceType']}/{resource['id']}"

    def bundle(self) -> dict:
        return {
            "resourceType": "Bundle", "id": f"{self.pid}-bundle", "type": "collection",
            "timestamp": "2026-11-28T08:00:00Z",
            "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r}
                      for r in self.resources],
        }

    # -- conditions ------------------------------------------------------------------------------
    def condition(self, suffix: str, icd: str | None = None, sct: str | None = None,
                  text: str | None = None, onset: str = "2026-01-01", clinical: str = "active",
                  verification: str = "confirmed", morphology: str | None = None,
                  site: str | None = None, note: str | None = None, abatement: str | None = None) -> str:
        code = cc(ICD10, icd, ICD[icd]) if icd else {}
        if sct:
            code.setdefault("coding", []).append({"system": SCT, "code": sct, "display": SNOMED[sct]})
        code["text"] = text or (ICD.get(icd) if icd else SNOMED[sct])
        res: dict = {"resourceType": "Condition"}
        if morphology:
            res["extension"] = [{"url": MCODE_HISTOLOGY, "valueCodeableConcept": cc(
                ICDO3, morphology, MORPHOLOGY[morphology])}]
        res.update({
            "clinicalStatus": cc(COND_CLIN, clinical, clinical.capitalize()),
            "verificationStatus": cc(COND_VER, verification, verification.replace("-", " ").capitalize()),
            "category": category("problem-list-item", COND_CAT),
            "code": code,
        })
        if site:
            sid, sdisplay = BODY_SITE[site]
            res["bodySite"] = [cc(SCT, sid, sdisplay)]
        res["subject"] = {"reference": self.ref}
        res["onsetDateTime"] = onset
        if abatement:
            res["abatementDateTime"] = abatement
        res["recordedDate"] = onset
        if note:
            res["note"] = [{"text": note}]
        return self.add(res, suffix)

    # -- observations ----------------------------------------------------------------------------
    def _obs(self, suffix: str, cat: str, code: dict, date: str, value: dict | None = None,
             note: str | None = None, interpretation: str | None = None, **extra) -> str:
        res: dict = {"resourceType": "Observation", "status": "final", "category": category(cat),
                     "code": code, "subject": {"reference": self.ref}, "effectiveDateTime": date,
                     "issued": f"{date}T16:00:00Z" if len(date) == 10 else date}
        if value:
            res.update(value)
        if interpretation:
            res["interpretation"] = [cc(INTERP, interpretation, {
                "H": "High", "L": "Low", "N": "Normal", "POS": "Positive", "NEG": "Negative"}[interpretation])]
        res.update(extra)
        if note:
            res["note"] = [{"text": note}]
        return self.add(res, suffix)

    def ki67(self, value: float | None, date: str, suffix: str = "ki67", note: str | None = None,
             value_string: str | None = None, unit: str = "%") -> str:
        value_el = ({"valueString": value_string} if value_string is not None
                    else {"valueQuantity": qty(value, unit)})
        return self._obs(suffix, "laboratory",
                         cc(LOINC, "29593-1", "Cells.Ki-67 nuclear Ag/cells in Tissue by Immune stain",
                            "Ki-67 proliferation index"), date, value_el, note=note)

    def mitoses(self, value: float, date: str, suffix: str = "mitoses") -> str:
        return self._obs(suffix, "laboratory",
                         cc(FINDINGS, "mitotic-count", "Mitotic count", "Mitotic count per 2 mm2",
                            extra=[(CAP, "38390-100004300", "Mitotic Rate")]),
                         date, {"valueQuantity": qty(value, "/2mm2", "/2.mm2")})

    def histology(self, morphology: str, date: str, suffix: str = "histology") -> str:
        return self._obs(suffix, "laboratory",
                         cc(LOINC, "31206-6", "Behavior ICD-O-3 Cancer", "Histologic type (ICD-O-3)"),
                         date, {"valueCodeableConcept": cc(ICDO3, morphology, MORPHOLOGY[morphology])})

    def sstr(self, modality: str, result: str, date: str, suffix: str = "sstr",
             krenning: int | None = None, note: str | None = None, as_report: bool = False) -> str:
        """SSTR imaging. modality: text shown (e.g. "Ga-68 DOTATATE PET/CT"); result positive|negative."""
        positive = result == "positive"
        value_cc = cc(SCT, "10828004" if positive else "260385009", "Positive" if positive else "Negative",
                      "Positive" if positive else "Negative")
        code = cc(FINDINGS, "sstr-status", "Somatostatin receptor status", modality)
        if as_report:
            res = {"resourceType": "DiagnosticReport", "status": "final",
                   "category": [cc("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")],
                   "code": cc(text=modality), "subject": {"reference": self.ref},
                   "effectiveDateTime": date, "issued": f"{date}T17:00:00Z",
                   "conclusion": note or f"Somatostatin receptor imaging {result}.",
                   "conclusionCode": [value_cc]}
            ref = self.add(res, suffix)
        else:
            ref = self._obs(suffix, "imaging", code, date, {"valueCodeableConcept": value_cc},
                            note=note, interpretation="POS" if positive else "NEG")
        if krenning is not None:
            # R4: an Observation may be derivedFrom another Observation, not from a DiagnosticReport; a
            # report lists its findings in DiagnosticReport.result instead (HAPI refuses the other way)
            link = {} if as_report else {"derivedFrom": [{"reference": ref}]}
            score = self._obs(f"{suffix}-krenning", "imaging",
                              cc(FINDINGS, "krenning-score", "Krenning score", "Krenning score"), date,
                              {"valueInteger": krenning}, **link)
            if as_report:
                res["result"] = [{"reference": score}]
        return ref

    def finding(self, code: str, value: bool | str, date: str, note: str | None = None) -> str:
        displays = {"tumor-burden": "Tumor burden", "symptomatic": "Symptomatic disease",
                    "resectable": "Resectable disease", "hepatic-predominant": "Hepatic-predominant disease"}
        if isinstance(value, bool):
            value_el = {"valueBoolean": value}
        else:
            value_el = {"valueCodeableConcept": cc(FINDINGS, value, value.capitalize())}
        return self._obs(code, "exam", cc(FINDINGS, code, displays[code], displays[code]), date, value_el,
                         note=note)

    def disease_status(self, status: str, date: str, focus: str | None = None, note: str | None = None) -> str:
        values = {"progressing": ("271299001", "Patient's condition worsened"),
                  "stable": ("359746009", "Patient's condition stable"),
                  "improved": ("268910001", "Patient's condition improved"),
                  "remission": ("550991000124107", "Malignant neoplasm in full remission")}
        code, display = values[status]
        extra = {"focus": [{"reference": focus}]} if focus else {}
        return self._obs("disease-status", "exam", cc(LOINC, "97509-4", "Cancer disease progression",
                                                       "Cancer disease status"),
                         date, {"valueCodeableConcept": cc(SCT, code, display, display)}, note=note, **extra)

    def lab(self, key: str, value: float, date: str, interpretation: str | None = None,
            suffix: str | None = None, note: str | None = None) -> str:
        loinc, display, unit, ucum = LABS[key]
        extra = {}
        if key in LAB_RANGES:
            low, high = LAB_RANGES[key]
            rng: dict = {}
            if low is not None:
                rng["low"] = qty(low, unit, ucum)
            rng["high"] = qty(high, unit, ucum)
            extra["referenceRange"] = [rng]
        return self._obs(suffix or key, "laboratory", cc(LOINC, loinc, display, display), date,
                         {"valueQuantity": qty(value, unit, ucum)}, note=note,
                         interpretation=interpretation, **extra)

    def kps(self, value: int, date: str) -> str:
        return self._obs("kps", "survey", cc(LOINC, "89243-0", "Karnofsky Performance Status score",
                                             "Karnofsky performance status"), date, {"valueInteger": value})

    def ecog(self, value: int, date: str) -> str:
        return self._obs("ecog", "survey", cc(LOINC, "89247-1", "ECOG Performance Status score",
                                              "ECOG performance status"), date, {"valueInteger": value})

    # -- medications -----------------------------------------------------------------------------
    def med_statement(self, drug: str, start: str, end: str | None = None, status: str | None = None,
                      suffix: str | None = None, dose: str | None = None, coding: str = "full",
                      timing: dict | None = None) -> str:
        period = {"start": start}
        if end:
            period["end"] = end
        res = {"resourceType": "MedicationStatement", "status": status or ("completed" if end else "active"),
               "medicationCodeableConcept": drug_cc(drug, coding), "subject": {"reference": self.ref},
               "effectivePeriod": period, "dateAsserted": end or max(start, "2026-11-20")}
        if dose or timing:
            res["dosage"] = [{k: v for k, v in (("text", dose), ("timing", timing)) if v}]
        return self.add(res, suffix or drug)

    def med_request(self, drug: str, authored: str, status: str = "active", suffix: str | None = None,
                    dose: str | None = None, timing: dict | None = None, end: str | None = None) -> str:
        res: dict = {"resourceType": "MedicationRequest", "status": status, "intent": "order",
                     "medicationCodeableConcept": drug_cc(drug), "subject": {"reference": self.ref},
                     "authoredOn": authored}
        dosage: dict = {}
        if dose:
            dosage["text"] = dose
        if timing:
            dosage["timing"] = timing
        if dosage:
            res["dosageInstruction"] = [dosage]
        if end:
            res["dispenseRequest"] = {"validityPeriod": {"start": authored, "end": end}}
        return self.add(res, suffix or f"{drug}-rx")

    def administration(self, drug: str, date: str, suffix: str, dose: str | None = None,
                       quantity: tuple[float, str] | None = None) -> str:
        res = {"resourceType": "MedicationAdministration", "status": "completed",
               "medicationCodeableConcept": drug_cc(drug), "subject": {"reference": self.ref},
               "effectiveDateTime": date}
        if dose:  # FHIR R4 mad-1: a dosage needs a dose or a rate, not text alone
            res["dosage"] = {"text": dose}
            if quantity:
                res["dosage"]["dose"] = {"value": quantity[0], "unit": quantity[1],
                                         "system": "http://unitsofmeasure.org", "code": quantity[1]}
        return self.add(res, suffix)

    def prrt_cycles(self, dates: list[str], suffix: str = "prrt") -> list[str]:
        return [self.administration("lutathera", d, f"{suffix}-{i}", dose="7.4 GBq (200 mCi) IV",
                                    quantity=(7.4, "GBq"))
                for i, d in enumerate(dates, start=1)]

    def procedure(self, suffix: str, text: str, date: str, cpt: tuple[str, str] | None = None,
                  note: str | None = None) -> str:
        code = cc(CPT, cpt[0], cpt[1], text) if cpt else cc(text=text)
        res = {"resourceType": "Procedure", "status": "completed", "code": code,
               "subject": {"reference": self.ref}, "performedDateTime": date}
        if note:
            res["note"] = [{"text": note}]
        return self.add(res, suffix)

    def planned_prrt(self, date: str, authored: str, suffix: str = "prrt-planned", text: str | None = None) -> str:
        res = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
               "code": cc(HCPCS, "A9513", "Lutetium Lu 177, dotatate, therapeutic, 1 millicurie",
                          text or "PRRT: lutetium Lu 177 dotatate (Lutathera) 7.4 GBq IV"),
               "subject": {"reference": self.ref}, "occurrenceDateTime": date, "authoredOn": authored}
        return self.add(res, suffix)

    def medication(self, drug: str, suffix: str) -> str:
        res = {"resourceType": "Medication", "code": drug_cc(drug), "status": "active"}
        return self.add(res, suffix)

    # -- common bundles of facts -----------------------------------------------------------------
    def prrt_labs(self, date: str, crcl: float = 78, platelets: float = 210, kps: int | None = 90) -> None:
        self.lab("crcl", crcl, date, "L" if crcl < 60 else None)
        self.lab("platelets", platelets, date, "L" if platelets < 150 else None)
        if kps is not None:
            self.kps(kps, date)


class Drafts:
    """A draftOrders Bundle for order-sign."""

    def __init__(self, name: str, patient: Patient, with_type: bool = True):
        self.name = name
        self.patient = patient
        self.with_type = with_type
        self.resources: list[dict] = []

    def order(self, drug: str, suffix: str, timing: dict | None = None, dose: str | None = None,
              coding: str = "full", reference: str | None = None, contained: bool = False,
              text: str | None = None) -> dict:
        res: dict = {"resourceType": "MedicationRequest", "id": f"{self.patient.pid}-draft-{suffix}"}
        if contained:
            res["contained"] = [{"resourceType": "Medication", "id": "med", "code": drug_cc(drug, coding)}]
            res["medicationReference"] = {"reference": "#med", "display": DRUGS[drug][1]}
        res.update({"status": "draft", "intent": "order"})
        if reference:
            res["medicationReference"] = {"reference": reference, "display": DRUGS[drug][1]}
        elif not contained:
            res["medicationCodeableConcept"] = drug_cc(drug, coding, text)
        res["subject"] = {"reference": self.patient.ref}
        res["authoredOn"] = "2026-11-28"
        dosage: dict = {}
        if dose:
            dosage["text"] = dose
        if timing:
            dosage["timing"] = timing
        if dosage:
            res["dosageInstruction"] = [dosage]
        self.resources.append(res)
        return res

    def service_request(self, suffix: str, text: str, date: str) -> dict:
        res = {"resourceType": "ServiceRequest", "id": f"{self.patient.pid}-draft-{suffix}",
               "status": "draft", "intent": "order",
               "code": cc(HCPCS, "A9513", "Lutetium Lu 177, dotatate, therapeutic, 1 millicurie", text),
               "subject": {"reference": self.patient.ref}, "occurrenceDateTime": date,
               "authoredOn": "2026-11-28"}
        self.resources.append(res)
        return res

    def bundle(self) -> dict:
        out: dict = {"resourceType": "Bundle"}
        if self.with_type:
            out["type"] = "collection"
        out["entry"] = [{"resource": copy.deepcopy(r)} for r in self.resources]
        return out


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
# --- samples/ ------------------------------------------------------------------------------------

TODAY = "2026-11-28"


def sample_no_nen():
    p = Patient("net-no-nen", "1961-04-12", "female", "Okafor", "Grace")
    p.condition("gerd", "K21.9", onset="2019-05-20")
    p.condition("htn", "I10", "38341003", onset="2016-02-11")
    p.med_statement("omeprazole", "2019-06-01", dose="20 mg by mouth once daily")
    p.lab("glucose", 94, "2026-10-02", "N")
    d = Drafts("net-no-nen-omeprazole", p)
    d.order("omeprazole-40", "omeprazole", timing=daily(1), dose="40 mg by mouth once daily")
    return p, d, "No neuroendocrine neoplasm: GERD and hypertension, omeprazole (no card expected)", ["scope"]


def sample_lung():
    p = Patient("net-lung-carcinoid", "1958-09-03", "male", "Lindqvist", "Erik")
    p.condition("lung-net", "C7A.090", "443492008", onset="2026-07-14", morphology="8240/3", site="lung",
                text="Typical carcinoid of the right middle lobe")
    p.ki67(2, "2026-07-14")
    p.condition("htn", "I10", onset="2012-03-01")
    return p, None, "Lung typical carcinoid (C7A.090): out of scope, no therapy card", ["scope"]


def sample_resected():
    p = Patient("net-pnet-resected", "1972-01-25", "female", "Moreau", "Claire")
    c = p.condition("pnet", "C25.4", "254612002", onset="2024-03-18", clinical="remission",
                    morphology="8249/3", site="pancreas-head",
                    note="Nonfunctioning pancreatic NET, head, 2.8 cm, pT2 N1 (1/14 nodes), R0.")
    p.procedure("whipple", "Pancreaticoduodenectomy (Whipple procedure)", "2024-05-14",
                ("48150", "Pancreatectomy, proximal subtotal with total duodenectomy ... (Whipple-type "
                 "procedure); with pancreatojejunostomy"))
    p.ki67(6, "2024-05-14", note="Resection specimen; hotspot count, 2000 cells")
    p.mitoses(3, "2024-05-14")
    p.disease_status("remission", "2026-05-20", focus=c, note="Multiphasic CT: no evidence of disease.")
    return p, None, "pNET G2, Whipple 2024, in remission: post-resection surveillance", ["F-4", "X-9"]


def sample_gastrinoma():
    p = Patient("net-pnet-gastrinoma", "1966-06-30", "male", "Haddad", "Karim")
    p.condition("pnet", "C25.4", "254612002", onset="2025-02-10", morphology="8153/3", site="pancreas-head",
                text="Gastrinoma of the pancreatic head")
    p.condition("zes", "E16.4", "53132006", onset="2025-01-22", text="Zollinger-Ellison syndrome")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2025-02-10")
    p.ki67(4, "2025-03-05", note="EUS-FNB of pancreatic head lesion")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2025-02-20", krenning=3,
           note="Avid pancreatic head primary and three liver lesions, uptake above liver.")
    p.med_statement("omeprazole-40", "2025-01-25", dose="40 mg by mouth once daily", timing=daily(1))
    p.lab("gastrin", 1850, "2026-10-01", "H")
    p.lab("cga", 520, "2026-10-01", "H", note="Drawn on omeprazole.")
    p.lab("calcium", 9.4, "2026-10-01", "N")
    p.finding("tumor-burden", "low", "2026-10-15")
    p.disease_status("stable", "2026-10-15", note="CT: stable liver lesions since 2025-08.")
    p.ecog(0, "2026-10-15")
    d = Drafts("net-pnet-gastrinoma-omeprazole", p)
    d.order("omeprazole-40", "omeprazole", timing=daily(1), dose="40 mg by mouth once daily")
    return (p, d, "Metastatic pancreatic gastrinoma (ZES) on once-daily omeprazole; CgA drawn on PPI",
            ["P-2", "P-8", "X-6", "X-9", "O-PPI-3"])


def sample_insulinoma():
    p = Patient("net-pnet-insulinoma", "1970-11-08", "female", "Tanaka", "Yumi")
    p.condition("pnet", "C25.4", "254612002", onset="2026-06-12", morphology="8151/3", site="pancreas-tail",
                text="Malignant insulinoma, pancreatic tail")
    p.condition("hyperinsulinism", "E16.1", "83469008", onset="2026-05-02",
                text="Endogenous hyperinsulinemic hypoglycemia")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-06-12")
    p.ki67(8, "2026-07-02")
    p.sstr("Ga-68 DOTATATE PET/CT", "negative", "2026-06-20", as_report=True,
           note="No somatostatin receptor-avid disease; pancreatic tail and liver lesions not avid.")
    p.med_statement("diazoxide", "2026-07-05", dose="100 mg by mouth three times daily")
    p.lab("glucose", 41, "2026-11-20", "L", note="Fasting capillary glucose confirmed in lab.")
    p.finding("tumor-burden", "high", "2026-10-28", note="Multiple bilobar liver metastases, largest 6 cm.")
    p.disease_status("stable", "2026-10-28")
    p.prrt_labs("2026-11-20", crcl=92, platelets=244, kps=80)
    d = Drafts("net-pnet-insulinoma-octreotide", p)
    d.order("octreotide-sc", "octreotide", timing=timing_code("TID"), dose="100 mcg subcutaneously three times daily")
    return (p, d, "Metastatic insulinoma, SSTR-PET negative, on diazoxide; draft octreotide",
            ["P-7", "P-6", "X-4", "X-9", "O-SSA-2"])


def sample_nec():
    p = Patient("net-colon-nec", "1955-03-17", "male", "Novak", "Tomas")
    p.condition("nec", "C7A.1", onset="2026-10-05", morphology="8013/3", site="sigmoid-colon",
                text="Large cell neuroendocrine carcinoma of the sigmoid colon")
    p.condition("liver-mets", "C78.7", "94381002", onset="2026-10-05")
    p.ki67(85, "2026-10-05")
    p.mitoses(46, "2026-10-05")
    p.ecog(1, "2026-11-10")
    p.lab("crcl", 88, "2026-11-10")
    p.lab("platelets", 312, "2026-11-10")
    d = Drafts("net-colon-nec-ssa-everolimus", p)
    d.order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    d.order("everolimus", "everolimus", timing=daily(1), dose="10 mg by mouth once daily")
    return (p, d, "Large cell NEC of the sigmoid colon with liver metastases; draft SSA and everolimus",
            ["NEC-1", "X-9", "O-SSA-1", "O-TKI-2"])


def sample_syndrome_refractory():
    p = Patient("net-si-syndrome-refractory", "1962-08-21", "female", "Brennan", "Siobhan")
    p.condition("si-net", "C7A.012", "445238008", onset="2023-04-11", morphology="8240/3", site="ileum")
    p.condition("carcinoid-syndrome", "E34.00", "35868009", onset="2023-04-11")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2023-04-11")
    p.ki67(2, "2023-05-02")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2023-04-20", krenning=4)
    p.med_statement("octreotide-lar", "2023-06-01", dose="30 mg IM every 4 weeks")
    p.administration("octreotide-lar", "2026-11-05", "octreotide-lar-dose", dose="30 mg IM", quantity=(30, "mg"))
    p.finding("symptomatic", True, "2026-11-10",
              note="Diarrhoea 7-8 stools/day and daily flushing despite octreotide LAR 30 mg q4w for 3 months.")
    p.lab("5hiaa", 48, "2026-10-28", "H")
    p.finding("tumor-burden", "low", "2026-10-20")
    p.disease_status("stable", "2026-10-20", note="CT: stable liver metastases (RECIST SD).")
    return (p, None, "Ileal NET G1 with carcinoid syndrome, symptoms worsening on octreotide LAR, stable disease",
            ["GI-10", "F-1", "X-9"])


def sample_progressing_on_ssa():
    p = Patient("net-si-progressing-on-ssa", "1959-12-02", "male", "Schmidt", "Jonas")
    p.condition("si-net", "C7A.012", "445238008", onset="2024-01-16", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2024-01-16")
    p.ki67(7, "2024-02-05")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2024-01-25", krenning=3)
    p.med_statement("lanreotide", "2024-03-01", dose="120 mg deep SC every 4 weeks")
    p.disease_status("progressing", "2026-11-02", note="CT: new and enlarging liver lesions (RECIST PD).")
    p.finding("hepatic-predominant", True, "2026-11-02")
    p.finding("tumor-burden", "high", "2026-11-02")
    p.finding("resectable", False, "2026-11-09", note="Tumour board: bilobar, not resectable.")
    p.prrt_labs("2026-11-02", crcl=82, platelets=198, kps=None)
    d = Drafts("net-si-progressing-on-ssa-lutathera", p)
    d.order("lutathera", "lutathera", dose="7.4 GBq IV, cycle 1 of 4")
    return (p, d, "Ileal NET G2 progressing on lanreotide, SSTR positive, liver-predominant; KPS not recorded",
            ["GI-6", "GI-9", "X-7", "X-9", "O-PRRT-1"])


def sample_after_prrt_durable():
    p = Patient("net-si-after-prrt-durable", "1957-05-14", "female", "Rossi", "Giulia")
    p.condition("si-net", "C7A.012", "445238008", onset="2021-08-03", morphology="8240/3", site="ileum")
    p.condition("carcinoid-syndrome", "E34.0", "35868009", onset="2021-08-03")
    p.condition("liver-mets", "C78.7", "94381002", onset="2021-08-03")
    p.ki67(5, "2021-08-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-11-12", krenning=4, as_report=True,
           note="Multiple SSTR-avid liver metastases, uptake above spleen.")
    p.med_statement("octreotide-lar", "2021-09-10", dose="30 mg IM every 4 weeks")
    p.prrt_cycles(["2024-01-10", "2024-03-06", "2024-05-02", "2024-06-27"])
    p.disease_status("progressing", "2026-11-05", note="MRI liver: growth of segment VII and VIII lesions.")
    p.finding("symptomatic", False, "2026-11-05", note="Flushing controlled on octreotide LAR.")
    p.prrt_labs("2026-11-12", crcl=64, platelets=162, kps=80)
    p.planned_prrt("2026-12-10", "2026-11-20", text="PRRT retreatment cycle 1: lutetium Lu 177 dotatate 7.4 GBq")
    d = Drafts("net-si-after-prrt-durable-octreotide", p)
    d.order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    return (p, d, "Ileal NET with carcinoid syndrome progressing 29 months after PRRT; retreatment planned",
            ["GI-7", "GI-11", "F-3", "X-9", "O-SSA-5"])


def sample_after_prrt_early():
    p = Patient("net-si-after-prrt-early", "1964-02-27", "male", "Kowalski", "Piotr")
    p.condition("si-net", "C7A.011", "445238008", onset="2023-02-08", morphology="8249/3", site="jejunum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2023-02-08")
    p.ki67(9, "2023-02-20")
    p.sstr("Ga-68 DOTATOC PET/CT", "positive", "2023-03-01", krenning=3)
    p.med_statement("lanreotide", "2023-04-03", dose="120 mg deep SC every 4 weeks")
    p.prrt_cycles(["2024-02-14", "2024-04-10", "2024-06-05", "2024-07-31", "2026-02-11", "2026-04-08"])
    p.disease_status("progressing", "2026-11-12", note="CT: progression 7 months after PRRT retreatment.")
    p.prrt_labs("2026-11-12", crcl=58, platelets=96, kps=80)
    return (p, None, "Jejunal NET G2, 6 PRRT doses (retreatment), progressing within 12 months of the last",
            ["GI-8", "GI-11", "X-8", "F-3", "X-9"])


def sample_after_prrt_cbc_overdue():
    p = Patient("net-si-after-prrt-cbc-overdue", "1955-09-03", "female", "Lindqvist", "Maria")
    p.condition("si-net", "C7A.012", "445238008", onset="2022-05-11", morphology="8240/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2022-05-11")
    p.ki67(4, "2022-05-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2024-09-18", krenning=3)
    p.med_statement("lanreotide", "2022-06-15", dose="120 mg deep SC every 4 weeks")
    p.prrt_cycles(["2025-01-08", "2025-03-05", "2025-04-30", "2025-06-25"])
    p.disease_status("stable", "2026-10-28", note="CT: liver lesions stable since the end of PRRT.")
    p.lab("platelets", 171, "2026-03-02")
    p.lab("crcl", 71, "2026-03-02")
    return (p, None, "Ileal NET G2 after four PRRT doses, stable on lanreotide; last blood count and kidney "
            "function 9 months ago",
            ["F-3", "X-9"])


def sample_rectal_sstr_negative():
    p = Patient("net-rectal-sstr-negative", "1968-10-19", "female", "Adeyemi", "Funmi")
    p.condition("rectal-net", "C7A.026", "445238008", onset="2026-08-12", morphology="8249/3", site="rectum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-08-12")
    p.ki67(14, "2026-08-20")
    p.mitoses(6, "2026-08-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "negative", "2026-09-03",
           note="Rectal primary and liver metastases without uptake above background.")
    p.finding("tumor-burden", "high", "2026-09-03")
    p.finding("hepatic-predominant", True, "2026-09-03")
    p.finding("symptomatic", False, "2026-09-10")
    d = Drafts("net-rectal-sstr-negative-lanreotide", p)
    d.order("lanreotide", "lanreotide", coding="text", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    return (p, d, "Rectal NET G2 (Ki-67 14 %) with liver metastases, SSTR-PET negative",
            ["GI-5", "X-4", "X-9", "O-SSA-4"])


def sample_pnet_diabetes():
    p = Patient("net-pnet-progressing-diabetes", "1960-07-09", "male", "Fernandes", "Paulo")
    p.condition("pnet", "C25.4", "254612002", onset="2024-09-02", morphology="8249/3", site="pancreas")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2024-09-02")
    p.condition("diabetes", "E11.9", "44054006", onset="2015-03-01")
    p.ki67(9, "2024-09-12")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2024-09-20", krenning=3)
    p.med_request("lanreotide", "2024-11-04", dose="120 mg deep SC every 4 weeks", timing=every_4_weeks())
    p.disease_status("progressing", "2026-11-06", note="CT: liver metastases +28 % (RECIST PD).")
    p.finding("tumor-burden", "high", "2026-11-06")
    p.lab("hba1c", 7.9, "2026-10-30", "H")
    p.lab("glucose", 168, "2026-10-30", "H")
    p.lab("egfr", 74, "2026-10-30", note="No Cockcroft-Gault CrCl on record.")
    p.lab("platelets", 240, "2026-10-30")
    p.ecog(1, "2026-11-06")
    d = Drafts("net-pnet-progressing-diabetes-everolimus", p)
    d.order("everolimus", "everolimus", timing=daily(1), dose="10 mg by mouth once daily")
    return (p, d, "pNET G2 progressing on lanreotide, type 2 diabetes; draft everolimus",
            ["P-4", "P-5", "X-9", "O-TKI-1"])


def sample_g3_aggressive():
    p = Patient("net-pnet-g3-aggressive", "1975-04-04", "female", "Ivanova", "Marina")
    p.condition("pnet", "C25.4", "254612002", onset="2026-03-10", morphology="8249/3", site="pancreas-tail",
                note="Well-differentiated NET G3 (morphology reviewed; not NEC).")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-03-10")
    p.condition("bone-mets", "C7B.03", "94222008", onset="2026-03-10")
    p.ki67(32, "2026-03-20")
    p.mitoses(12, "2026-03-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-03-25", krenning=2,
           note="Heterogeneous uptake; several liver lesions non-avid. FDG PET avid.")
    p.med_request("everolimus", "2026-05-01", dose="10 mg by mouth once daily", timing=daily(1))
    p.disease_status("progressing", "2026-11-04", note="CT: progression after 6 months of everolimus.")
    p.finding("tumor-burden", "high", "2026-11-04")
    p.prrt_labs("2026-11-04", crcl=95, platelets=210, kps=None)
    p.ecog(1, "2026-11-04")
    return (p, None, "pNET G3 (Ki-67 32 %) progressing on everolimus, high burden, bone metastases",
            ["G3-1", "F-2", "X-9"])


def sample_g3_indolent():
    p = Patient("net-si-g3-indolent", "1952-10-30", "male", "Dubois", "Henri")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-07-08", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-07-08")
    p.ki67(24, "2026-07-15")
    p.mitoses(4, "2026-07-15")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-07-28", krenning=4,
           note="Intense uptake in ileal primary and two small liver lesions.")
    p.finding("tumor-burden", "low", "2026-11-01")
    p.finding("symptomatic", False, "2026-11-01")
    p.disease_status("stable", "2026-11-01", note="CT: unchanged from 2026-08.")
    return (p, None, "Ileal NET G3 (Ki-67 24 %), strongly SSTR positive, low volume, stable",
            ["G3-2", "X-9"])


def sample_unknown_burden():
    p = Patient("net-duodenal-unknown-burden", "1980-01-19", "female", "Nguyen", "Linh")
    p.condition("duodenal-net", "C7A.010", "445238008", onset="2026-09-04", morphology="8240/3", site="duodenum")
    p.condition("nodes", "C7B.01", onset="2026-09-04")
    p.ki67(2, "2026-09-10")
    p.sstr("Ga-68 DOTATOC PET/CT", "positive", "2026-10-01", krenning=3)
    d = Drafts("net-duodenal-unknown-burden-omeprazole", p, with_type=False)
    d.order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    return (p, d, "Duodenal NET G1 with distant nodes; tumour burden and symptoms not recorded",
            ["GI-2", "GI-3", "X-9", "O-PPI-1"])


def sample_resectable_liver():
    p = Patient("net-si-resectable-liver", "1969-06-11", "male", "Oduya", "Daniel")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-09-22", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-09-22",
                note="Three liver metastases, segments II, III and VI.")
    p.ki67(4, "2026-10-02")
    p.finding("hepatic-predominant", True, "2026-10-20")
    p.finding("resectable", True, "2026-10-20", note="Tumour board: primary and liver lesions resectable.")
    p.finding("tumor-burden", "low", "2026-10-20")
    d = Drafts("net-si-resectable-liver-octreotide", p)
    d.order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    return (p, d, "Ileal NET G2 with resectable liver metastases; no SSTR imaging yet",
            ["GI-1", "X-2", "X-9", "O-SSA-3"])


def sample_bulky_high_g2():
    p = Patient("net-si-bulky-high-g2", "1963-03-05", "female", "Walsh", "Maeve")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-08-18", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-08-18")
    p.condition("peritoneal-mets", "C7B.04", onset="2026-08-18")
    p.ki67(16, "2026-08-25")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-09-05", krenning=4, as_report=True,
           note="Bulky SSTR-avid liver and peritoneal disease, uptake above spleen.")
    p.finding("tumor-burden", "high", "2026-09-05")
    p.finding("resectable", False, "2026-09-12")
    p.prrt_labs("2026-11-16", crcl=90, platelets=260, kps=90)
    return (p, None, "Ileal NET high-G2 (Ki-67 16 %), bulky SSTR-positive disease, treatment-naive",
            ["GI-4", "X-9"])


def sample_pnet_low_volume():
    p = Patient("net-pnet-low-volume", "1971-12-14", "male", "Petrov", "Alexei")
    p.condition("pnet", "C25.4", "254612002", onset="2026-06-22", morphology="8240/3", site="pancreas-tail")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-06-22", note="Two liver lesions, 8 and 11 mm.")
    p.condition("gerd", "K21.9", onset="2022-01-10")
    p.ki67(2, "2026-06-30")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-07-10", krenning=3)
    p.med_statement("pantoprazole", "2022-01-15", dose="40 mg by mouth once daily")
    p.lab("cga", 285, "2026-11-03", "H")
    p.finding("tumor-burden", "low", "2026-11-10")
    p.finding("symptomatic", False, "2026-11-10")
    p.disease_status("stable", "2026-11-10", note="CT: unchanged from 2026-07.")
    return (p, None, "pNET G1, two small liver lesions, asymptomatic and stable; CgA drawn on pantoprazole",
            ["P-1", "X-5", "X-9"])


def sample_pnet_negative_srs():
    p = Patient("net-pnet-bulky-negative-srs", "1958-02-02", "female", "Andersen", "Ingrid")
    p.condition("pnet", "C25.4", "254612002", onset="2026-07-15", morphology="8249/3", site="pancreas")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-07-15")
    p.ki67(12, "2026-07-22")
    p.sstr("In-111 pentetreotide (OctreoScan) SPECT/CT", "negative", "2026-08-05")
    p.lab("gastrin", 48, "2026-08-01", "N")
    p.lab("cga", 640, "2026-08-01", "H")
    p.finding("tumor-burden", "high", "2026-08-05", note="Liver replaced ~40 %.")
    p.finding("symptomatic", True, "2026-08-10", note="Right upper quadrant pain, early satiety.")
    p.finding("hepatic-predominant", True, "2026-08-05")
    d = Drafts("net-pnet-bulky-negative-srs-pantoprazole", p)
    d.order("pantoprazole", "pantoprazole", timing=daily(1), dose="40 mg by mouth once daily")
    return (p, d, "Nonfunctional pNET G2, bulky liver disease, negative OctreoScan only; draft pantoprazole",
            ["P-3", "X-3", "X-9", "O-PPI-2"])


def sample_vipoma():
    p = Patient("net-pnet-vipoma", "1967-05-23", "male", "Castillo", "Mateo")
    p.condition("pnet", "C25.4", "254612002", onset="2026-10-08", morphology="8155/3", site="pancreas-tail",
                text="VIPoma of the pancreatic tail")
    p.condition("vipoma-syndrome", "E34.1", onset="2026-10-02",
                text="Watery diarrhoea-hypokalaemia-achlorhydria (VIPoma syndrome)")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-10-08")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-10-20", krenning=4)
    p.finding("symptomatic", True, "2026-10-20", note="Secretory diarrhoea 4 L/day.")
    return (p, None, "Metastatic pancreatic VIPoma, Ki-67 not yet reported",
            ["P-9", "X-1", "X-9"])


def sample_rectal_resectable():
    p = Patient("net-rectal-small-resectable", "1976-03-08", "male", "Halvorsen", "Lars")
    p.condition("rectal-net", "C7A.026", "445238008", onset="2026-10-14", morphology="8240/3", site="rectum",
                text="Well-differentiated NET of the rectum, 9 mm (biopsy at screening colonoscopy)")
    p.ki67(1, "2026-10-14", note="Biopsy; hotspot count, 600 cells")
    p.finding("resectable", True, "2026-11-02", note="MRI pelvis and EUS: 9 mm, confined to submucosa, no nodes.")
    p.finding("tumor-burden", "low", "2026-11-02")
    p.finding("symptomatic", False, "2026-11-02")
    return (p, None, "Rectal NET G1, 9 mm, no metastatic site, recorded as resectable: endoscopic resection "
            "referral, no surveillance CT", ["R-1", "X-9"])


def sample_g3_netter2():
    p = Patient("net-pnet-g3-netter2", "1968-09-27", "female", "Okonkwo", "Adaeze")
    p.condition("pnet", "C25.4", "254612002", onset="2026-09-15", morphology="8249/3", site="pancreas-head",
                note="Well-differentiated NET G3 on review (not NEC).")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-09-15")
    p.ki67(35, "2026-09-24")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-10-02", krenning=4,
           note="Intense uptake in the pancreatic head mass and multiple liver lesions, above spleen.")
    p.finding("tumor-burden", "high", "2026-10-02", note="Bilobar liver metastases, about 30 % replaced.")
    p.finding("resectable", False, "2026-10-09", note="Tumour board: not resectable.")
    p.prrt_labs("2026-11-16", crcl=88, platelets=246, kps=90)
    p.lab("gastrin", 45, "2026-09-20", "N")
    return (p, None, "Newly diagnosed pNET G3 (Ki-67 35 %), strongly SSTR positive, high burden: CAPTEM, and "
            "Lu-177 dotatate + SSA as a first-line option (NETTER-2)", ["G3-1", "X-9"])


def sample_nec_after_platinum():
    p = Patient("net-gastric-nec-after-platinum", "1957-01-30", "male", "Yilmaz", "Mehmet")
    p.condition("nec", "C7A.1", onset="2026-02-10", morphology="8041/3", site="stomach",
                text="Small cell neuroendocrine carcinoma of the stomach")
    p.condition("liver-mets", "C78.7", "94381002", onset="2026-02-10")
    p.ki67(80, "2026-02-10")
    p.med_statement("carboplatin", "2026-03-02", "2026-06-15", dose="AUC 5 IV day 1 every 3 weeks")
    p.med_statement("etoposide", "2026-03-02", "2026-06-15", dose="100 mg/m2 IV days 1-3 every 3 weeks")
    p.disease_status("progressing", "2026-11-10", note="CT: new liver lesions 5 months after carboplatin-etoposide.")
    p.ecog(1, "2026-11-10")
    return (p, None, "Gastric small cell NEC progressing 5 months after carboplatin-etoposide: no standard second "
            "line; trial, FOLFIRI or FOLFOX; never platinum-etoposide again", ["NEC-2", "X-9"])


def sample_insulinoma_low_glucose():
    p = Patient("net-pnet-insulinoma-low-glucose", "1981-07-19", "male", "Sato", "Kenji")
    p.condition("pnet", "C25.4", "254612002", onset="2026-08-03", morphology="8151/3", site="pancreas-tail",
                text="Malignant insulinoma, pancreatic body")
    p.condition("hyperinsulinism", "E16.1", "83469008", onset="2026-07-20",
                text="Endogenous hyperinsulinemic hypoglycemia")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-08-03", note="Two liver lesions, 9 and 14 mm.")
    p.ki67(4, "2026-08-12")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-08-20", krenning=3)
    p.med_statement("diazoxide", "2026-08-25", dose="100 mg by mouth three times daily")
    p.lab("glucose", 38, "2026-11-22", "L", note="Symptomatic, confirmed in the laboratory.")
    p.finding("tumor-burden", "low", "2026-11-01")
    p.disease_status("stable", "2026-11-01")
    d = Drafts("net-pnet-insulinoma-low-glucose-octreotide-lar", p)
    d.order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    return (p, d, "Metastatic insulinoma, SSTR positive, glucose 38 mg/dL on diazoxide; draft octreotide LAR",
            ["P-2", "P-7", "X-9", "O-SSA-2"])


def sample_after_ssa_everolimus():
    p = Patient("net-si-after-ssa-everolimus", "1961-11-03", "female", "Keller", "Anna")
    p.condition("si-net", "C7A.012", "445238008", onset="2023-05-09", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2023-05-09")
    p.ki67(8, "2023-05-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-11-12", krenning=3, as_report=True,
           note="SSTR-avid liver and nodal disease, uptake above liver.")
    p.med_statement("lanreotide", "2023-06-05", "2025-04-10", dose="120 mg deep SC every 4 weeks")
    p.med_statement("everolimus", "2025-04-20", "2026-11-04", dose="10 mg by mouth once daily")
    p.disease_status("progressing", "2026-11-04", note="CT: growth of liver and nodal disease on everolimus.")
    p.finding("symptomatic", False, "2026-11-04")
    p.finding("resectable", False, "2026-11-04")
    p.prrt_labs("2026-11-12", crcl=76, platelets=205, kps=80)
    d = Drafts("net-si-after-ssa-everolimus-sunitinib", p)
    d.order("sunitinib", "sunitinib", timing=daily(1), dose="37.5 mg by mouth once daily")
    return (p, d, "Ileal NET G2 progressing after lanreotide then everolimus, PRRT never given; draft sunitinib",
            ["GI-6", "GI-11", "X-9", "O-TKI-3"])


def sample_cabozantinib_first():
    p = Patient("net-si-cabozantinib-first", "1966-02-14", "male", "Moretti", "Luca")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-09-01", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-09-01")
    p.ki67(5, "2026-09-10")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-09-20", krenning=3)
    p.finding("tumor-burden", "high", "2026-10-01")
    p.finding("resectable", False, "2026-10-01")
    d = Drafts("net-si-cabozantinib-first-cabozantinib", p)
    d.order("cabozantinib", "cabozantinib", timing=daily(1), dose="60 mg by mouth once daily")
    return (p, d, "Newly diagnosed ileal NET G2, SSTR positive, high burden; cabozantinib drafted before any "
            "other therapy", ["GI-3", "X-9", "O-CABO-1"])


SAMPLES = [
    sample_no_nen, sample_lung, sample_resected, sample_gastrinoma, sample_insulinoma, sample_nec,
    sample_syndrome_refractory, sample_progressing_on_ssa, sample_after_prrt_durable, sample_after_prrt_early,
    sample_rectal_sstr_negative, sample_pnet_diabetes, sample_g3_aggressive, sample_g3_indolent,
    sample_unknown_burden, sample_resectable_liver, sample_bulky_high_g2, sample_pnet_low_volume,
    sample_pnet_negative_srs, sample_vipoma, sample_rectal_resectable, sample_g3_netter2,
    sample_nec_after_platinum, sample_insulinoma_low_glucose, sample_after_ssa_everolimus,
    sample_cabozantinib_first, sample_after_prrt_cbc_overdue,
]

# --- tests/vignettes/cases/ ----------------------------------------------------------------------

# Next-step topics that must never appear for a NEC (safety invariant 1) and similar groups.
NEC_FORBIDDEN = ["ssa-first-line", "prrt-first-line", "prrt-after-ssa", "after-prrt", "targeted-first-line",
                 "targeted-later-line", "after-ssa-pnet", "ssa-syndrome-control", "hormone-control"]
CHEMO_TOPICS = ["g3-net-first-line", "nec-first-line", "cytoreduction-first-line"]
GRADE_DEPENDENT = ["surveillance", "ssa-first-line", "prrt-first-line", "targeted-first-line",
                   "g3-net-first-line", "nec-first-line"]
THERAPY_TOPICS = ["resection-evaluation", "surveillance", "ssa-first-line", "prrt-first-line",
                  "targeted-first-line", "prrt-after-ssa", "after-prrt", "targeted-later-line", "liver-directed",
                  "hormone-control", "cytoreduction-first-line", "after-ssa-pnet", "sstr-negative-pnet",
                  "insulinoma-control", "gastrinoma-acid-control", "ssa-syndrome-control", "g3-net-first-line",
                  "nec-first-line"]


class Vignette:
    """One case file plus its expectations."""

    def __init__(self, name: str, rule: str, why: str, hook: str = "patient-view"):
        self.name = name
        self.patient = Patient(f"v-{name.lower()}", "1961-05-15", "female", "Vignette", name)
        self.drafts: Drafts | None = None
        self.expect: dict = {"rule": rule, "hook": hook, "today": TODAY}
        self.why = why
        self.hostile = False
        self.mutations: list = []  # functions applied to the finished bundle (hostile data)

    def draft(self, with_type: bool = True) -> Drafts:
        self.drafts = Drafts(self.name, self.patient, with_type)
        self.expect["draft"] = f"drafts/{self.name}.json"
        return self.drafts

    def expects(self, topics=(), absent=(), any_of=(), indicators=None, suggestions=None,
                no_cards: bool = False, rules=()) -> Vignette:
        if no_cards:
            self.expect["no_cards"] = True
        self.expect["expect_topics"] = list(topics)
        if any_of:
            self.expect["expect_any_topics"] = list(any_of)
        self.expect["absent_topics"] = list(absent)
        if rules:
            self.expect["expect_rules"] = list(rules)
        if indicators:
            self.expect["indicators"] = indicators
        if suggestions:
            self.expect["suggestions"] = suggestions
        return self

    def entry(self) -> dict:
        out = dict(self.expect)
        if self.hostile:
            out["hostile"] = True
        out["why"] = self.why
        return out


# -- building blocks -----------------------------------------------------------------------------

def gi_net(v: Vignette, ki67: float | None = 2, morphology: str = "8240/3", icd: str = "C7A.012",
           site: str = "ileum", liver: bool = True, onset: str = "2026-05-04") -> str:
    p = v.patient
    ref = p.condition("net", icd, "445238008", onset=onset, morphology=morphology, site=site)
    if liver:
        p.condition("liver-mets", "C7B.02", "94381002", onset=onset)
    if ki67 is not None:
        p.ki67(ki67, "2026-05-12")
    return ref


def pnet(v: Vignette, ki67: float | None = 3, morphology: str = "8240/3", liver: bool = True,
         onset: str = "2026-05-04", text: str | None = None) -> str:
    p = v.patient
    ref = p.condition("pnet", "C25.4", "254612002", onset=onset, morphology=morphology, site="pancreas",
                      text=text)
    if liver:
        p.condition("liver-mets", "C7B.02", "94381002", onset=onset)
    if ki67 is not None:
        p.ki67(ki67, "2026-05-12")
    return ref


def nec(v: Vignette, ki67: float = 70) -> str:
    p = v.patient
    ref = p.condition("nec", "C7A.1", onset="2026-09-20", morphology="8246/3", site="sigmoid-colon",
                      text="Neuroendocrine carcinoma of the sigmoid colon")
    p.condition("liver-mets", "C78.7", "94381002", onset="2026-09-20")
    p.ki67(ki67, "2026-09-25")
    return ref


def pet(v: Vignette, result: str = "positive", date: str = "2026-05-20", krenning: int | None = 3) -> str:
    return v.patient.sstr("Ga-68 DOTATATE PET/CT", result, date,
                          krenning=krenning if result == "positive" else None)


def srs(v: Vignette, result: str = "negative", date: str = "2026-05-20") -> str:
    return v.patient.sstr("In-111 pentetreotide (OctreoScan) SPECT", result, date, suffix="srs")


def progressing(v: Vignette, date: str = "2026-11-05") -> str:
    return v.patient.disease_status("progressing", date)


def stable(v: Vignette, date: str = "2026-11-05") -> str:
    return v.patient.disease_status("stable", date)


def on_ssa(v: Vignette, drug: str = "lanreotide", start: str = "2025-01-06") -> str:
    dose = "120 mg deep SC every 4 weeks" if drug == "lanreotide" else "30 mg IM every 4 weeks"
    return v.patient.med_statement(drug, start, dose=dose)


def eligible_labs(v: Vignette, crcl: float = 80, platelets: float = 220, kps: int | None = 90,
                  date: str = "2026-11-10") -> None:
    v.patient.prrt_labs(date, crcl=crcl, platelets=platelets, kps=kps)


def zes(v: Vignette) -> None:
    pnet(v, 3, "8153/3", text="Gastrinoma of the pancreatic head")
    v.patient.condition("zes", "E16.4", "53132006", onset="2026-04-20", text="Zollinger-Ellison syndrome")


def insulinoma(v: Vignette) -> None:
    pnet(v, 4, "8151/3", text="Malignant insulinoma")
    v.patient.condition("hyperinsulinism", "E16.1", "83469008", onset="2026-04-10")
    v.patient.lab("glucose", 44, "2026-11-15", "L")


# -- the vignettes -------------------------------------------------------------------------------

def therapy_vignettes() -> list[Vignette]:
    out = []

    v = Vignette("GI-1", "GI-1", "Ileal NET G2 with resectable, liver-predominant metastases: surgical evaluation")
    gi_net(v, 5, "8249/3")
    pet(v)
    v.patient.finding("resectable", True, "2026-10-20")
    v.patient.finding("hepatic-predominant", True, "2026-10-20")
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    out.append(v.expects(["resection-evaluation"], ["surveillance"] + CHEMO_TOPICS))

    v = Vignette("GI-2", "GI-2", "Unresectable ileal NET G1, asymptomatic, low burden, naive, stable: surveillance")
    gi_net(v, 1.5)
    pet(v)
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    v.patient.finding("symptomatic", False, "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    stable(v)
    out.append(v.expects(["surveillance"], ["ssa-first-line", "prrt-first-line", "targeted-first-line"]))

    v = Vignette("GI-3", "GI-3", "Ileal NET G1 with carcinoid syndrome (symptomatic), SSTR positive, naive: SSA")
    gi_net(v, 2)
    v.patient.condition("carcinoid-syndrome", "E34.00", "35868009", onset="2026-05-04")
    pet(v)
    out.append(v.expects(["ssa-first-line"], ["surveillance", "prrt-first-line"] + CHEMO_TOPICS))

    v = Vignette("GI-3-high-burden", "GI-3",
                 "Nonfunctional ileal NET low-G2 (Ki-67 6 %), high burden, SSTR positive: SSA (not PRRT first line)")
    gi_net(v, 6, "8249/3")
    pet(v)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("symptomatic", False, "2026-10-20")
    out.append(v.expects(["ssa-first-line"], ["surveillance", "prrt-first-line"] + CHEMO_TOPICS))

    v = Vignette("GI-3-unknown-burden", "GI-3",
                 "Ileal NET G1, SSTR positive, naive, burden and symptoms unknown: conditional card presenting "
                 "both branches (GI-2 surveillance if asymptomatic and low volume, GI-3 SSA otherwise)")
    gi_net(v, 2)
    pet(v)
    v.patient.finding("resectable", False, "2026-10-20")
    out.append(v.expects(["surveillance"], ["prrt-first-line", "resection-evaluation"] + CHEMO_TOPICS,
                         any_of=["surveillance", "ssa-first-line"]))

    v = Vignette("GI-4", "GI-4", "Ileal NET high-G2 (Ki-67 15 %), bulky SSTR-positive disease, naive, PRRT "
                 "eligible: PRRT + SSA first line (NETTER-2)")
    gi_net(v, 15, "8249/3")
    pet(v, krenning=4)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    eligible_labs(v)
    out.append(v.expects(["prrt-first-line"], ["surveillance", "ssa-first-line"] + CHEMO_TOPICS))

    v = Vignette("GI-5", "GI-5", "Ileal NET G2 with negative SSTR-PET: everolimus or cabozantinib, not SSA/PRRT")
    gi_net(v, 8, "8249/3")
    pet(v, "negative")
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    out.append(v.expects(["targeted-first-line", "pathology-review"],
                         ["ssa-first-line", "prrt-first-line", "prrt-after-ssa"] + CHEMO_TOPICS))

    v = Vignette("GI-6", "GI-6", "Nonfunctional ileal NET G2 progressing on lanreotide, SSTR positive, PRRT "
                 "eligible: add PRRT")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["targeted-later-line", "ssa-first-line"] + CHEMO_TOPICS))

    v = Vignette("GI-7", "GI-7", "Progression 28 months after the last of 4 PRRT doses (durable response): "
                 "everolimus/cabozantinib or PRRT retreatment")
    gi_net(v, 5, "8249/3", onset="2023-03-01")
    pet(v, date="2023-03-10")
    on_ssa(v, "octreotide-lar", "2023-04-01")
    v.patient.prrt_cycles(["2024-01-17", "2024-03-13", "2024-05-08", "2024-07-03"])
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["after-prrt", "post-prrt-monitoring"],
                         ["prrt-after-ssa", "targeted-later-line"] + CHEMO_TOPICS))

    v = Vignette("GI-8", "GI-8", "Progression 6 months after the last PRRT dose (not durable): everolimus or "
                 "cabozantinib")
    gi_net(v, 9, "8249/3", onset="2024-06-01")
    pet(v, date="2024-06-10")
    on_ssa(v, "lanreotide", "2024-07-01")
    v.patient.prrt_cycles(["2025-11-05", "2025-12-31", "2026-02-25", "2026-04-22"])
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["targeted-later-line", "post-prrt-monitoring"],
                         ["after-prrt", "prrt-after-ssa"] + CHEMO_TOPICS))

    v = Vignette("GI-8-prrt-ineligible", "GI-8", "Progressing on SSA, SSTR positive, but CrCl 38 mL/min: PRRT "
                 "ineligible, targeted agent; the card lists the failed criterion (X-7)")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    eligible_labs(v, crcl=38)
    out.append(v.expects(["targeted-later-line"], ["prrt-after-ssa"] + CHEMO_TOPICS, rules=["GI-8"]))

    v = Vignette("GI-9", "GI-9", "Liver-predominant progression after SSA, everolimus and cabozantinib, SSTR "
                 "negative: no systemic option left in GI-8, liver-directed therapy is the next step (its own "
                 "card, or the option that leads the GI-8 card)")
    gi_net(v, 8, "8249/3", onset="2024-01-10")
    v.patient.med_statement("lanreotide", "2024-02-01", "2024-12-20", dose="120 mg deep SC every 4 weeks")
    pet(v, "negative", date="2025-01-15")
    v.patient.med_statement("everolimus", "2025-02-01", "2025-10-15", dose="10 mg by mouth once daily")
    v.patient.med_statement("cabozantinib", "2025-11-01", dose="60 mg by mouth once daily")
    progressing(v)
    v.patient.finding("hepatic-predominant", True, "2026-11-05")
    out.append(v.expects([], ["prrt-after-ssa", "prrt-first-line", "after-prrt"] + CHEMO_TOPICS,
                         any_of=["liver-directed", "targeted-later-line"], rules=["GI-9"]))

    v = Vignette("GI-9-with-prrt", "GI-9", "Progressing on SSA, SSTR positive, liver-predominant: PRRT is "
                 "preferred (GI-6), liver-directed therapy is named as the alternative in that card")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    v.patient.finding("hepatic-predominant", True, "2026-11-05")
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["targeted-later-line"] + CHEMO_TOPICS, rules=["GI-6", "GI-9"]))

    v = Vignette("GI-10", "GI-10", "Carcinoid syndrome with worsening diarrhoea on octreotide LAR, radiologically "
                 "stable: SSA escalation or telotristat (and F-1 follow-up)")
    gi_net(v, 2, onset="2025-02-01")
    v.patient.condition("carcinoid-syndrome", "E34.00", "35868009", onset="2025-02-01")
    pet(v, date="2025-02-10")
    on_ssa(v, "octreotide-lar", "2025-03-01")
    v.patient.finding("symptomatic", True, "2026-11-10",
                      note="Diarrhoea 6-8 stools/day and flushing despite octreotide LAR 30 mg q4w.")
    v.patient.lab("5hiaa", 52, "2026-10-28", "H")
    stable(v, "2026-10-20")
    out.append(v.expects(["hormone-control", "follow-up-schedule"], ["prrt-after-ssa", "ssa-first-line"]))

    v = Vignette("GI-11", "GI-11", "Carcinoid syndrome controlled on octreotide LAR, progressing, "
                 "SSTR positive: PRRT added, the card says continue SSA during and after PRRT")
    gi_net(v, 4, "8249/3")
    v.patient.condition("carcinoid-syndrome", "E34.00", "35868009", onset="2026-05-04")
    pet(v)
    on_ssa(v, "octreotide-lar", "2025-01-06")
    v.patient.finding("symptomatic", False, "2026-11-05", note="Flushing and diarrhoea controlled on SSA.")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["hormone-control"] + CHEMO_TOPICS, rules=["GI-11"]))

    v = Vignette("GI-11-nonfunctional", "GI-11", "Nonfunctional NET progressing on lanreotide with negative "
                 "SSTR-PET: targeted agent, the card says discontinue SSA")
    gi_net(v, 8, "8249/3")
    on_ssa(v, "lanreotide", "2025-01-06")
    pet(v, "negative", date="2026-10-30")
    progressing(v)
    out.append(v.expects(["targeted-later-line"], ["prrt-after-ssa", "prrt-first-line", "hormone-control"],
                         rules=["GI-11"]))

    v = Vignette("P-1", "P-1", "pNET G1, small liver lesions, asymptomatic, low volume, stable, naive: surveillance")
    pnet(v, 2)
    pet(v)
    v.patient.finding("tumor-burden", "low", "2026-11-05")
    v.patient.finding("symptomatic", False, "2026-11-05")
    stable(v)
    out.append(v.expects(["surveillance"], ["cytoreduction-first-line", "after-ssa-pnet"]))

    v = Vignette("P-2", "P-2", "pNET G2 (Ki-67 6 %), SSTR positive, low volume but growing, naive: SSA first line")
    pnet(v, 6, "8249/3")
    pet(v)
    v.patient.finding("tumor-burden", "low", "2026-11-05")
    v.patient.finding("symptomatic", False, "2026-11-05")
    progressing(v)
    out.append(v.expects(["ssa-first-line"], ["surveillance", "cytoreduction-first-line"]))

    v = Vignette("P-3", "P-3", "Nonfunctional pNET G2, large-volume liver disease, naive: CAPTEM (cytoreduction)")
    pnet(v, 12, "8249/3")
    pet(v)
    v.patient.finding("tumor-burden", "high", "2026-11-05")
    out.append(v.expects(["cytoreduction-first-line"], ["surveillance", "ssa-first-line"]))

    v = Vignette("P-4", "P-4", "pNET G2 progressing on lanreotide, SSTR positive: everolimus, sunitinib, PRRT, CAPTEM")
    pnet(v, 8, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["after-ssa-pnet"], ["ssa-first-line", "surveillance"]))

    v = Vignette("P-5", "P-5", "P-4 with type 2 diabetes (HbA1c 8.1 %): sunitinib preferred over "
                 "everolimus, stated inside the after-ssa-pnet card (no separate card)")
    pnet(v, 8, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    v.patient.condition("diabetes", "E11.9", "44054006", onset="2014-06-01")
    v.patient.lab("hba1c", 8.1, "2026-10-30", "H")
    out.append(v.expects(["after-ssa-pnet"], ["targeted-choice"], rules=["P-4", "P-5"]))

    v = Vignette("P-5-hypertension", "P-5", "P-4 with hypertension and heart failure: everolimus preferred over "
                 "sunitinib, stated inside the after-ssa-pnet card")
    pnet(v, 8, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    v.patient.condition("htn", "I10", "38341003", onset="2010-01-01")
    v.patient.condition("hf", "I50.9", "84114007", onset="2022-03-01")
    out.append(v.expects(["after-ssa-pnet"], ["targeted-choice"], rules=["P-4", "P-5"]))

    v = Vignette("P-6", "P-6", "pNET G2 with negative SSTR-PET: chemotherapy, liver-directed, everolimus, "
                 "sunitinib; and pathology review (X-4)")
    pnet(v, 7, "8249/3")
    pet(v, "negative")
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    out.append(v.expects(["sstr-negative-pnet", "pathology-review"],
                         ["ssa-first-line", "prrt-first-line", "prrt-after-ssa"]))

    v = Vignette("P-7", "P-7", "Metastatic insulinoma with hypoglycaemia: insulinoma control (debulking, "
                 "diazoxide, everolimus)")
    insulinoma(v)
    out.append(v.expects(["insulinoma-control"], []))

    v = Vignette("P-8", "P-8", "Pancreatic gastrinoma with ZES, no MEN1 diagnosis: twice-daily PPI and MEN1 "
                 "evaluation")
    zes(v)
    v.patient.lab("gastrin", 1200, "2026-10-01", "H")
    out.append(v.expects(["gastrinoma-acid-control", "men1-evaluation"], []))

    v = Vignette("P-8-PPI", "P-8-PPI", "Gastrinoma on an active PPI ordered once daily: the P-8 card says twice "
                 "daily (project addendum; O-PPI-3 on patient-view)")
    zes(v)
    v.patient.med_request("pantoprazole", "2026-02-01", dose="40 mg by mouth once daily", timing=daily(1))
    out.append(v.expects(["gastrinoma-acid-control"], [], rules=["P-8", "P-8-PPI"]))

    v = Vignette("P-8-men1", "P-8", "Gastrinoma in a patient with known MEN1: acid control, no MEN1 work-up card")
    zes(v)
    v.patient.condition("men1", "E31.21", "30664006", onset="2019-02-01")
    out.append(v.expects(["gastrinoma-acid-control"], ["men1-evaluation"]))

    v = Vignette("P-9", "P-9", "Pancreatic VIPoma: SSA is imperative for syndrome control")
    pnet(v, 5, "8155/3", text="VIPoma of the pancreatic tail")
    v.patient.condition("vipoma-syndrome", "E34.1", onset="2026-05-01", text="VIPoma syndrome (WDHA)")
    pet(v)
    out.append(v.expects(["ssa-syndrome-control"], []))

    v = Vignette("P-9-glucagonoma", "P-9", "Pancreatic glucagonoma: SSA for syndrome control")
    pnet(v, 6, "8152/3", text="Glucagonoma of the pancreatic body")
    v.patient.condition("glucagonoma-syndrome", "E16.3", onset="2026-05-01")
    pet(v)
    out.append(v.expects(["ssa-syndrome-control"], []))

    v = Vignette("G3-1", "G3-1", "pNET G3 (Ki-67 35 %), progressing, high burden: CAPTEM (platinum-etoposide if "
                 "high burden / FDG > SSTR)")
    pnet(v, 35, "8249/3")
    pet(v, krenning=2)
    progressing(v)
    v.patient.finding("tumor-burden", "high", "2026-11-05")
    out.append(v.expects(["g3-net-first-line"], ["nec-first-line", "prrt-first-line", "ssa-first-line"]))

    v = Vignette("G3-2", "G3-2", "Ileal NET G3 (Ki-67 25 %), Krenning 4, stable, low volume: SSA may be used; "
                 "PRRT never first line (G3-2 has no own topic: either ssa-first-line or g3-net-first-line)")
    gi_net(v, 25, "8249/3")
    pet(v, krenning=4)
    stable(v)
    v.patient.finding("tumor-burden", "low", "2026-11-05")
    v.patient.finding("symptomatic", False, "2026-11-05")
    out.append(v.expects([], ["prrt-first-line", "nec-first-line"], any_of=["ssa-first-line", "g3-net-first-line"]))

    v = Vignette("NEC-1", "NEC-1", "Colonic NEC (C7A.1, 8246/3, Ki-67 70 %): platinum-etoposide; no SSA, PRRT or "
                 "targeted agent")
    nec(v)
    out.append(v.expects(["nec-first-line"], NEC_FORBIDDEN))

    v = Vignette("NEC-1-minen", "NEC-1", "Pancreatic MiNEN (8154/3) counts as NEC")
    pnet(v, 40, "8154/3", text="Mixed neuroendocrine-non-neuroendocrine neoplasm of the pancreas")
    out.append(v.expects(["nec-first-line"], NEC_FORBIDDEN))

    v = Vignette("safety-1-nec-wins", "NEC-1", "Safety 1: NET code (C25.4) plus an active NEC code, SSTR "
                 "positive, progressing on octreotide: the NEC wins, never SSA/PRRT/everolimus/sunitinib")
    pnet(v, 60, "8240/3")
    v.patient.condition("nec", "C7A.1", onset="2026-09-01", morphology="8246/3",
                        text="Poorly differentiated neuroendocrine carcinoma (liver biopsy)")
    pet(v)
    on_ssa(v, "octreotide-lar", "2026-06-01")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["nec-first-line"], NEC_FORBIDDEN))

    v = Vignette("safety-2-sstr-negative-progressing", "GI-8", "Safety 2: progressing on SSA with negative "
                 "SSTR-PET: targeted agent, never PRRT")
    gi_net(v, 9, "8249/3")
    on_ssa(v)
    pet(v, "negative", date="2026-10-30")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["targeted-later-line"], ["prrt-first-line", "prrt-after-ssa", "after-prrt"]))

    v = Vignette("safety-4-gi-no-chemo", "GI-8", "Safety 4: G2 ileal NET progressing after SSA, PRRT, everolimus "
                 "and cabozantinib, not liver-predominant: chemotherapy is never the preferred option")
    gi_net(v, 15, "8249/3", onset="2023-01-10")
    pet(v, date="2023-01-20")
    v.patient.med_statement("octreotide-lar", "2023-02-01", "2025-06-01", dose="30 mg IM every 4 weeks")
    v.patient.prrt_cycles(["2024-01-10", "2024-03-06", "2024-05-02", "2024-06-27"])
    v.patient.med_statement("everolimus", "2025-06-15", "2026-02-01", dose="10 mg by mouth once daily")
    v.patient.med_statement("cabozantinib", "2026-02-15", dose="60 mg by mouth once daily")
    progressing(v)
    v.patient.finding("hepatic-predominant", False, "2026-11-05")
    out.append(v.expects(["targeted-later-line"], CHEMO_TOPICS))
    return out


def cross_cutting_vignettes() -> list[Vignette]:
    out = []
    v = Vignette("X-1", "X-1", "Metastatic ileal NET without Ki-67 or mitotic count: request Ki-67")
    gi_net(v, None)
    pet(v)
    out.append(v.expects(["grade-unknown"], ["prrt-first-line", "g3-net-first-line", "nec-first-line"]))

    v = Vignette("safety-5-ki67-unparseable", "X-1", "Safety 5: Ki-67 sent as 'n/a' cannot be read: grade-unknown "
                 "gap, and no grade-dependent next-step card")
    gi_net(v, None)
    v.patient.ki67(None, "2026-05-12", value_string="n/a")
    pet(v)
    out.append(v.expects(["grade-unknown"], GRADE_DEPENDENT))

    v = Vignette("X-2", "X-2", "Metastatic ileal NET G2 without any SSTR imaging: SSTR-PET needed")
    gi_net(v, 4, "8249/3")
    out.append(v.expects(["sstr-imaging-needed"], ["prrt-first-line", "prrt-after-ssa"]))

    v = Vignette("X-2-resected", "X-2", "Resected ileal NET without metastases (history only): no SSTR imaging "
                 "card, post-resection surveillance instead")
    v.patient.condition("net", "C7A.012", "445238008", onset="2025-03-01", clinical="remission",
                        morphology="8240/3", site="ileum")
    v.patient.procedure("resection", "Small bowel resection with mesenteric lymphadenectomy", "2025-03-20",
                        ("44120", "Enterectomy, resection of small intestine; single resection and anastomosis"))
    v.patient.ki67(2, "2025-03-20")
    out.append(v.expects(["post-resection-surveillance"], ["sstr-imaging-needed"] + THERAPY_TOPICS))

    v = Vignette("X-3", "X-3", "pNET with a negative OctreoScan and no SSTR-PET: confirm with SSTR-PET")
    pnet(v, 5, "8249/3")
    srs(v)
    out.append(v.expects(["sstr-pet-confirm"], ["pathology-review", "prrt-first-line", "sstr-negative-pnet"]))

    v = Vignette("X-3-pet-wins", "X-3", "Negative OctreoScan (2025) then positive Ga-68 DOTATATE PET (2026): "
                 "the PET wins, SSTR positive, no confirmation card")
    pnet(v, 5, "8249/3")
    srs(v, date="2025-10-01")
    pet(v, date="2026-05-20")
    out.append(v.expects(["surveillance"], ["sstr-pet-confirm", "sstr-imaging-needed", "pathology-review"]))

    v = Vignette("X-4", "X-4", "Ileal NET G1 with negative SSTR-PET: pathology review to rule out G3 NET/NEC")
    gi_net(v, 2)
    pet(v, "negative")
    out.append(v.expects(["pathology-review"], ["prrt-first-line", "prrt-after-ssa"]))

    v = Vignette("X-5", "X-5", "CgA drawn while omeprazole was active (MedicationRequest): possibly falsely "
                 "elevated, repeat off PPI")
    gi_net(v, 3, "8249/3")
    pet(v)
    v.patient.med_request("omeprazole", "2024-02-01", dose="20 mg by mouth once daily", timing=daily(1))
    v.patient.lab("cga", 310, "2026-10-15", "H")
    out.append(v.expects(["cga-ppi-confounded"], []))

    v = Vignette("X-5-ppi-stopped", "X-5", "PPI stopped 44 days before the CgA: not confounded")
    gi_net(v, 3, "8249/3")
    pet(v)
    v.patient.med_statement("omeprazole", "2024-02-01", "2026-09-01", dose="20 mg by mouth once daily")
    v.patient.lab("cga", 180, "2026-10-15", "H")
    out.append(v.expects([], ["cga-ppi-confounded"]))

    v = Vignette("safety-3-gastrinoma-cga-on-ppi", "X-5", "Safety 3: gastrinoma with CgA drawn on PPI: no "
                 "cga-ppi-confounded card (never advise stopping a PPI in ZES)")
    zes(v)
    pet(v)
    v.patient.med_statement("omeprazole-40", "2026-04-25", dose="40 mg by mouth twice daily")
    v.patient.lab("cga", 850, "2026-10-15", "H")
    v.patient.lab("gastrin", 1400, "2026-10-15", "H")
    out.append(v.expects(["gastrinoma-acid-control"], ["cga-ppi-confounded"]))

    v = Vignette("X-6", "X-6", "Multifocal pNET (head and tail) with primary hyperparathyroidism, no MEN1 "
                 "diagnosis: MEN1 germline testing")
    pnet(v, 2)
    v.patient.condition("pnet-tail", "C25.4", "254612002", onset="2026-05-04", site="pancreas-tail",
                        morphology="8240/3", text="Second NET in the pancreatic tail")
    v.patient.condition("phpt", "E21.0", onset="2025-11-01")
    v.patient.lab("calcium", 11.2, "2026-10-10", "H")
    out.append(v.expects(["men1-evaluation"], []))

    v = Vignette("X-7", "X-7", "Progressing on SSA, SSTR positive, CrCl and platelets fine but no Karnofsky/ECOG "
                 "recorded: the PRRT card lists performance status as unknown")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    eligible_labs(v, kps=None)
    out.append(v.expects(["prrt-after-ssa"], ["after-prrt"], rules=["GI-6", "X-7"]))

    v = Vignette("X-8", "X-8", "Five Lu-177 dotatate administrations (4 + 1 retreatment): beyond the labelled "
                 "29.6 GBq course")
    gi_net(v, 5, "8249/3", onset="2023-03-01")
    pet(v, date="2023-03-10")
    on_ssa(v, "octreotide-lar", "2023-04-01")
    v.patient.prrt_cycles(["2024-01-17", "2024-03-13", "2024-05-08", "2024-07-03", "2026-03-04"])
    stable(v)
    out.append(v.expects(["prrt-cumulative", "post-prrt-monitoring"], []))

    v = Vignette("X-9", "X-9", "Any NEN patient gets the profile card")
    v.expect = {"profile_card": True, **v.expect}  # NET_CDS_PROFILE_CARD=on (off by default)
    gi_net(v, 2, liver=False)
    v.expect["profile_card"] = True  # NET_CDS_PROFILE_CARD=on (off by default)
    out.append(v.expects(["net-profile"], []))

    v = Vignette("F-1", "F-1", "Metastatic ileal NET on lanreotide, stable: follow-up schedule, no next-step card")
    gi_net(v, 2, onset="2025-01-01")
    pet(v, date="2025-01-10")
    on_ssa(v, "lanreotide", "2025-02-01")
    stable(v)
    out.append(v.expects(["follow-up-schedule"], ["ssa-first-line", "prrt-after-ssa", "hormone-control",
                                                  "post-prrt-monitoring"]))

    v = Vignette("F-2", "F-2", "pNET on everolimus (active MedicationRequest), stable: monthly toxicity visits")
    pnet(v, 8, "8249/3", onset="2025-06-01")
    pet(v, date="2025-06-10")
    v.patient.med_request("everolimus", "2026-06-01", dose="10 mg by mouth once daily", timing=daily(1))
    stable(v)
    out.append(v.expects(["follow-up-schedule"], ["after-ssa-pnet", "ssa-first-line", "cytoreduction-first-line"]))

    v = Vignette("F-3", "F-3", "Four PRRT doses in 2026, on SSA, stable: post-PRRT monitoring wins over F-1")
    gi_net(v, 5, "8249/3", onset="2025-06-01")
    pet(v, date="2025-06-10")
    on_ssa(v, "octreotide-lar", "2025-07-01")
    v.patient.prrt_cycles(["2026-01-14", "2026-03-11", "2026-05-06", "2026-07-01"])
    v.patient.lab("platelets", 138, "2026-09-02", "L")
    v.patient.lab("crcl", 71, "2026-09-02")
    stable(v)
    out.append(v.expects(["post-prrt-monitoring"], ["follow-up-schedule", "after-prrt", "targeted-later-line"]))

    v = Vignette("F-3-procedure", "F-3", "PRRT recorded only as Procedures with text 'PRRT': still counted")
    gi_net(v, 5, "8249/3", onset="2025-06-01")
    pet(v, date="2025-06-10")
    for i, date in enumerate(["2026-02-04", "2026-04-01", "2026-05-27", "2026-07-22"], start=1):
        v.patient.procedure(f"prrt-{i}", f"PRRT (Lu-177 dotatate) cycle {i}", date)
    stable(v)
    out.append(v.expects(["post-prrt-monitoring"], ["after-prrt"]))

    v = Vignette("F-4", "F-4", "pNET resected (Whipple) in remission, no metastases: post-resection surveillance "
                 "only")
    v.patient.condition("pnet", "C25.4", "254612002", onset="2024-03-01", clinical="remission",
                        morphology="8249/3", site="pancreas-head")
    v.patient.procedure("whipple", "Pancreaticoduodenectomy (Whipple procedure)", "2024-04-10",
                        ("48150", "Pancreatectomy, proximal subtotal with total duodenectomy ... (Whipple-type "
                         "procedure); with pancreatojejunostomy"))
    v.patient.ki67(6, "2024-04-10")
    out.append(v.expects(["post-resection-surveillance"], ["sstr-imaging-needed"] + THERAPY_TOPICS))

    v = Vignette("scope-no-nen", "scope", "No NEN at all (GERD, hypertension): no card")
    v.patient.condition("gerd", "K21.9", onset="2019-05-20")
    v.patient.condition("htn", "I10", "38341003", onset="2016-02-11")
    out.append(v.expects([], [], no_cards=True))

    v = Vignette("scope-lung-net", "scope", "Lung carcinoid (C7A.090) only: out of scope, no therapy card")
    v.patient.condition("lung-net", "C7A.090", "443492008", onset="2026-07-14", morphology="8240/3", site="lung")
    v.patient.ki67(2, "2026-07-14")
    out.append(v.expects([], THERAPY_TOPICS + ["grade-unknown", "sstr-imaging-needed"]))
    return out


def order_vignettes() -> list[Vignette]:
    out = []
    warn, info, crit = "warning", "info", "critical"

    v = Vignette("O-PPI-1", "O-PPI-1", "pNET, no ZES and no gastrin on record, omeprazole drafted (RxNorm): "
                 "fasting gastrin first", "order-sign")
    pnet(v, 3)
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects(["ppi-zes-workup"], [], indicators={"ppi-zes-workup": warn},
                         suggestions={"ppi-zes-workup": ["create:ServiceRequest"]}))

    v = Vignette("O-PPI-1-duodenal-text", "O-PPI-1", "Duodenal NET, PPI coded by text only (no coding), draft "
                 "Bundle without type", "order-sign")
    gi_net(v, 2, icd="C7A.010", site="duodenum", liver=False)
    v.draft(with_type=False).order("pantoprazole", "pantoprazole", coding="text", timing=daily(1),
                                   text="Pantoprazole 40 mg EC tablet", dose="40 mg by mouth once daily")
    out.append(v.expects(["ppi-zes-workup"], [], indicators={"ppi-zes-workup": warn},
                         suggestions={"ppi-zes-workup": ["create:ServiceRequest"]}))

    v = Vignette("O-PPI-1-men1", "O-PPI-1", "MEN1 without a known NEN, esomeprazole drafted: ZES work-up first "
                 "(O-PPI-1 covers MEN1)", "order-sign")
    v.patient.condition("men1", "E31.21", "30664006", onset="2020-01-15")
    v.patient.condition("phpt", "E21.0", onset="2020-01-15")
    v.draft().order("esomeprazole", "esomeprazole", timing=daily(1), dose="40 mg by mouth once daily")
    out.append(v.expects(["ppi-zes-workup"], [], indicators={"ppi-zes-workup": warn},
                         suggestions={"ppi-zes-workup": ["create:ServiceRequest"]}))

    v = Vignette("O-PPI-1-gastrin-on-record", "O-PPI-1", "pNET with a fasting gastrin on record and no CgA: no "
                 "card", "order-sign")
    pnet(v, 3)
    v.patient.lab("gastrin", 62, "2026-09-15", "N")
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects([], ["ppi-zes-workup"], no_cards=True))

    v = Vignette("O-PPI-2", "O-PPI-2", "Ileal NET with CgA in August, omeprazole drafted coded by ATC only "
                 "(A02BC01): note for CgA interpretation", "order-sign")
    gi_net(v, 3, "8249/3")
    v.patient.lab("cga", 240, "2026-08-10", "H")
    v.draft().order("omeprazole", "omeprazole", coding="atc", timing=daily(1), dose="20 mg once daily")
    out.append(v.expects(["ppi-cga-confound"], ["ppi-zes-workup"], indicators={"ppi-cga-confound": info}))

    v = Vignette("O-PPI-2-cga-old", "O-PPI-2", "Last CgA 15 months ago: no confound note", "order-sign")
    gi_net(v, 3, "8249/3")
    v.patient.lab("cga", 240, "2025-08-10", "H")
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects([], ["ppi-cga-confound"], no_cards=True))

    v = Vignette("safety-3-gastrinoma-ppi-draft", "O-PPI-2", "Safety 3: gastrinoma with recent CgA, BID PPI "
                 "drafted: no CgA-confound note, no dosing or ZES work-up card", "order-sign")
    zes(v)
    v.patient.lab("cga", 850, "2026-10-15", "H")
    v.patient.lab("gastrin", 1400, "2026-10-15", "H")
    v.draft().order("omeprazole-40", "omeprazole", timing=daily(2), dose="40 mg by mouth twice daily")
    out.append(v.expects([], ["ppi-cga-confound", "ppi-gastrinoma-dosing", "ppi-zes-workup"], no_cards=True))

    v = Vignette("O-PPI-3", "O-PPI-3", "Gastrinoma/ZES, omeprazole 40 mg once daily drafted (timing.repeat): "
                 "suggest twice daily", "order-sign")
    zes(v)
    v.draft().order("omeprazole-40", "omeprazole", timing=daily(1), dose="40 mg by mouth once daily")
    out.append(v.expects(["ppi-gastrinoma-dosing"], ["ppi-zes-workup", "ppi-cga-confound"],
                         indicators={"ppi-gastrinoma-dosing": warn},
                         suggestions={"ppi-gastrinoma-dosing": ["update:MedicationRequest"]}))

    v = Vignette("O-PPI-3-timing-code", "O-PPI-3", "Gastrinoma, pantoprazole via contained Medication, timing.code "
                 "QD: suggest twice daily", "order-sign")
    zes(v)
    v.draft().order("pantoprazole", "pantoprazole", contained=True, timing=timing_code("QD"),
                    dose="40 mg by mouth every morning")
    out.append(v.expects(["ppi-gastrinoma-dosing"], ["ppi-zes-workup"], indicators={"ppi-gastrinoma-dosing": warn},
                         suggestions={"ppi-gastrinoma-dosing": ["update:MedicationRequest"]}))

    v = Vignette("O-PPI-3-bid", "O-PPI-3", "Gastrinoma, PPI drafted twice daily (timing.code BID): no card",
                 "order-sign")
    zes(v)
    v.draft().order("omeprazole-40", "omeprazole", timing=timing_code("BID"), dose="40 mg by mouth twice daily")
    out.append(v.expects([], ["ppi-gastrinoma-dosing"], no_cards=True))

    v = Vignette("O-SSA-1", "O-SSA-1", "NEC, octreotide LAR drafted (RxNorm 7617 + text): remove the order",
                 "order-sign")
    nec(v)
    v.draft().order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    out.append(v.expects(["ssa-nec"], [], indicators={"ssa-nec": crit},
                         suggestions={"ssa-nec": ["delete:MedicationRequest"]}))

    v = Vignette("O-SSA-1-atc", "O-SSA-1", "NEC, octreotide drafted coded by ATC only (H01CB02, no text)",
                 "order-sign")
    nec(v)
    v.draft().order("octreotide-lar", "octreotide", coding="atc", timing=every_4_weeks())
    out.append(v.expects(["ssa-nec"], [], indicators={"ssa-nec": crit},
                         suggestions={"ssa-nec": ["delete:MedicationRequest"]}))

    v = Vignette("O-SSA-1-hostile-draft", "O-SSA-1", "NEC, draft octreotide that fails strict validation (coding "
                 "as an object, no intent, no subject): still gets its alert", "order-sign")
    nec(v)
    order = v.draft().order("octreotide-lar", "octreotide", dose="30 mg IM every 4 weeks")
    order["medicationCodeableConcept"]["coding"] = order["medicationCodeableConcept"]["coding"][0]
    del order["intent"]
    del order["subject"]
    v.hostile = True
    out.append(v.expects(["ssa-nec"], [], indicators={"ssa-nec": crit}))

    v = Vignette("O-SSA-2", "O-SSA-2", "Insulinoma, SSTR-PET positive, short-acting octreotide drafted by text only",
                 "order-sign")
    insulinoma(v)
    pet(v)
    v.draft().order("octreotide-sc", "octreotide", coding="text", timing=timing_code("TID"),
                    text="Octreotide 50 mcg SC injection", dose="50 mcg SC three times daily")
    out.append(v.expects(["ssa-insulinoma"], ["ssa-sstr-negative"], indicators={"ssa-insulinoma": warn}))

    v = Vignette("O-SSA-2-sstr-negative", "O-SSA-2", "Insulinoma with negative SSTR-PET, lanreotide drafted: "
                 "critical", "order-sign")
    insulinoma(v)
    pet(v, "negative")
    v.draft().order("lanreotide", "lanreotide", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    out.append(v.expects(["ssa-insulinoma"], ["ssa-sstr-negative"], indicators={"ssa-insulinoma": crit}))

    v = Vignette("O-SSA-3", "O-SSA-3", "Ileal NET without SSTR imaging, lanreotide drafted: suggest SSTR-PET",
                 "order-sign")
    gi_net(v, 2)
    v.draft().order("lanreotide", "lanreotide", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    out.append(v.expects(["sstr-imaging-needed"], [], indicators={"sstr-imaging-needed": info},
                         suggestions={"sstr-imaging-needed": ["create:ServiceRequest"]}))

    v = Vignette("O-SSA-3-indeterminate", "O-SSA-3", "Negative OctreoScan only (indeterminate), octreotide LAR "
                 "drafted: suggest SSTR-PET", "order-sign")
    gi_net(v, 2)
    srs(v)
    v.draft().order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    out.append(v.expects(["sstr-imaging-needed"], ["ssa-sstr-negative"], indicators={"sstr-imaging-needed": info},
                         suggestions={"sstr-imaging-needed": ["create:ServiceRequest"]}))

    v = Vignette("O-SSA-4", "O-SSA-4", "Nonfunctional NET with negative SSTR-PET, octreotide LAR drafted via "
                 "medicationReference to a Medication in the patient record", "order-sign")
    gi_net(v, 8, "8249/3")
    pet(v, "negative")
    med = v.patient.medication("octreotide-lar", "medication-octreotide-lar")
    v.draft().order("octreotide-lar", "octreotide", reference=med, timing=every_4_weeks(),
                    dose="30 mg IM every 4 weeks")
    out.append(v.expects(["ssa-sstr-negative"], [], indicators={"ssa-sstr-negative": warn}))

    v = Vignette("O-SSA-4-functional", "O-SSA-4", "SSTR-PET negative but carcinoid syndrome: SSA for symptoms is "
                 "fine, no ssa-sstr-negative card", "order-sign")
    gi_net(v, 4, "8249/3")
    v.patient.condition("carcinoid-syndrome", "E34.00", "35868009", onset="2026-05-04")
    pet(v, "negative")
    v.draft().order("octreotide-lar", "octreotide", timing=every_4_weeks(), dose="30 mg IM every 4 weeks")
    out.append(v.expects([], ["ssa-sstr-negative"]))

    v = Vignette("O-SSA-5", "O-SSA-5", "PRRT dose planned 2026-12-10 (ServiceRequest), lanreotide drafted today: "
                 "washout warning", "order-sign")
    gi_net(v, 6, "8249/3")
    pet(v)
    on_ssa(v)
    v.patient.planned_prrt("2026-12-10", "2026-11-20")
    v.draft().order("lanreotide", "lanreotide", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    out.append(v.expects(["ssa-prrt-washout"], [], indicators={"ssa-prrt-washout": warn}))

    v = Vignette("O-SSA-5-far", "O-SSA-5", "PRRT planned in 79 days: no washout warning", "order-sign")
    gi_net(v, 6, "8249/3")
    pet(v)
    on_ssa(v)
    v.patient.planned_prrt("2027-02-15", "2026-11-20")
    v.draft().order("lanreotide", "lanreotide", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    out.append(v.expects([], ["ssa-prrt-washout"], no_cards=True))

    v = Vignette("O-PRRT-1", "O-PRRT-1", "Lu-177 dotatate drafted with platelets 62 x10^9/L: eligibility card "
                 "listing each criterion", "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    eligible_labs(v, platelets=62)
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV, cycle 1 of 4")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": warn}))

    v = Vignette("O-PRRT-1-nec", "O-PRRT-1", "Lu-177 dotatate drafted for a NEC: critical", "order-sign")
    nec(v)
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": crit}))

    v = Vignette("O-PRRT-1-sstr-negative", "O-PRRT-1", "Lu-177 dotatate drafted with negative SSTR-PET: critical",
                 "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v, "negative")
    eligible_labs(v)
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": crit}))

    v = Vignette("O-PRRT-1-service-request", "O-PRRT-1", "PRRT drafted as a ServiceRequest, no renal, marrow or "
                 "performance data: each criterion unknown", "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v)
    v.draft().service_request("prrt", "PRRT: lutetium Lu 177 dotatate (Lutathera) 7.4 GBq IV", "2026-12-16")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": warn}))

    v = Vignette("O-PRRT-1-eligible", "O-PRRT-1", "Lu-177 dotatate drafted, every criterion met: no card",
                 "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    eligible_labs(v)
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV, cycle 1 of 4")
    out.append(v.expects([], ["prrt-eligibility"], no_cards=True))

    v = Vignette("O-TKI-1", "O-TKI-1", "pNET with type 2 diabetes, everolimus drafted: sunitinib preferred",
                 "order-sign")
    pnet(v, 8, "8249/3")
    v.patient.condition("diabetes", "E11.9", "44054006", onset="2014-06-01")
    v.draft().order("everolimus", "everolimus", timing=daily(1), dose="10 mg by mouth once daily")
    out.append(v.expects(["targeted-choice"], ["targeted-nec"], indicators={"targeted-choice": info}))

    v = Vignette("O-TKI-1-hypertension", "O-TKI-1", "pNET with hypertension, sunitinib drafted: everolimus preferred",
                 "order-sign")
    pnet(v, 8, "8249/3")
    v.patient.condition("htn", "I10", "38341003", onset="2010-01-01")
    v.draft().order("sunitinib", "sunitinib", timing=daily(1), dose="37.5 mg by mouth once daily")
    out.append(v.expects(["targeted-choice"], ["targeted-nec"], indicators={"targeted-choice": info}))

    v = Vignette("O-TKI-2", "O-TKI-2", "NEC, everolimus drafted: not beneficial in NEC", "order-sign")
    nec(v)
    v.draft().order("everolimus", "everolimus", timing=daily(1), dose="10 mg by mouth once daily")
    out.append(v.expects(["targeted-nec"], [], indicators={"targeted-nec": warn}))

    v = Vignette("O-TKI-2-sunitinib-reference", "O-TKI-2", "NEC, sunitinib drafted via a contained Medication",
                 "order-sign")
    nec(v)
    v.draft().order("sunitinib", "sunitinib", contained=True, timing=daily(1), dose="37.5 mg by mouth once daily")
    out.append(v.expects(["targeted-nec"], [], indicators={"targeted-nec": warn}))

    v = Vignette("scope-no-nen-ppi", "scope", "No NEN and no MEN1, omeprazole drafted: no card", "order-sign")
    v.patient.condition("gerd", "K21.9", onset="2019-05-20")
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects([], [], no_cards=True))
    return out


def reading_vignettes() -> list[Vignette]:
    """Section 2 reading rules the therapy rules depend on: Ki-67 strings and fractions, discordant
    grades, SSTR by Krenning score only, time windows, ECOG mapping, refuted or erroneous conditions."""
    out = []
    v = Vignette("GI-4-ki67-range-string", "GI-4", "Ki-67 sent as valueString '8-12 %': the upper bound (12 %, "
                 "high-G2) grades it, so bulky SSTR-positive disease gets PRRT first line")
    gi_net(v, None, "8249/3")
    v.patient.ki67(None, "2026-05-12", value_string="8-12 %")
    pet(v, krenning=4)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    eligible_labs(v)
    out.append(v.expects(["prrt-first-line"], ["ssa-first-line", "grade-unknown"]))

    v = Vignette("GI-4-ki67-fraction", "GI-4", "Ki-67 sent as a fraction 0.15 with unit '1': read as 15 % "
                 "(high-G2), PRRT first line for bulky SSTR-positive disease")
    gi_net(v, None, "8249/3")
    v.patient.ki67(0.15, "2026-05-12", unit="1")
    pet(v, krenning=4)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    eligible_labs(v)
    out.append(v.expects(["prrt-first-line"], ["ssa-first-line", "grade-unknown"]))

    v = Vignette("X-1-ki67-out-of-range", "X-1", "Ki-67 of 150 % is rejected (never clamped): grade unknown")
    gi_net(v, None)
    v.patient.ki67(150, "2026-05-12")
    pet(v)
    out.append(v.expects(["grade-unknown"], ["prrt-first-line", "g3-net-first-line", "nec-first-line"]))

    v = Vignette("G3-1-discordant", "G3-1", "Ki-67 15 % but 25 mitoses/2 mm2 on the same specimen: the higher "
                 "grade (G3) wins; progressing bulky pNET gets the G3 NET card")
    pnet(v, 15, "8249/3")
    v.patient.mitoses(25, "2026-05-12")
    pet(v, krenning=2)
    progressing(v)
    v.patient.finding("tumor-burden", "high", "2026-11-05")
    out.append(v.expects(["g3-net-first-line"], ["after-ssa-pnet", "ssa-first-line", "nec-first-line",
                                                  "cytoreduction-first-line"]))

    v = Vignette("G3-1-latest-specimen", "G3-1", "Ki-67 2 % on the 2023 primary, 28 % on a 2026 liver biopsy: "
                 "the latest specimens grade the tumour (G3)")
    pnet(v, None, "8249/3", onset="2023-02-01")
    v.patient.ki67(2, "2023-02-10", suffix="ki67-2023")
    v.patient.ki67(28, "2026-10-02", suffix="ki67-2026", note="Liver biopsy")
    pet(v, krenning=2)
    progressing(v)
    v.patient.finding("tumor-burden", "high", "2026-11-05")
    out.append(v.expects(["g3-net-first-line"], ["surveillance", "ssa-first-line", "nec-first-line"]))

    v = Vignette("GI-6-krenning-only", "GI-6", "SSTR-PET result given only as a Krenning score of 3 (no value, no "
                 "interpretation): positive, PRRT after SSA")
    gi_net(v, 7, "8249/3")
    ref = v.patient._obs("sstr", "imaging", cc(FINDINGS, "sstr-status", "Somatostatin receptor status",
                                               "Ga-68 DOTATATE PET/CT"), "2026-05-20",
                         note="Liver metastases avid, uptake above liver.")
    v.patient._obs("sstr-krenning", "imaging", cc(FINDINGS, "krenning-score", "Krenning score", "Krenning score"),
                   "2026-05-20", {"valueInteger": 3}, derivedFrom=[{"reference": ref}])
    on_ssa(v)
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["sstr-imaging-needed", "targeted-later-line"]))

    v = Vignette("O-PRRT-1-stale-labs", "O-PRRT-1", "Lu-177 dotatate drafted; CrCl, platelets and KPS are from "
                 "June (older than 90 days): each criterion unknown", "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    eligible_labs(v, date="2026-06-01")
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV, cycle 1 of 4")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": "warning"}))

    v = Vignette("O-PRRT-1-ecog", "O-PRRT-1", "Lu-177 dotatate drafted, ECOG 3 (KPS <=40): performance criterion "
                 "fails", "order-sign")
    gi_net(v, 7, "8249/3")
    pet(v)
    on_ssa(v)
    eligible_labs(v, kps=None)
    v.patient.ecog(3, "2026-11-10")
    v.draft().order("lutathera", "lutathera", dose="7.4 GBq IV, cycle 1 of 4")
    out.append(v.expects(["prrt-eligibility"], [], indicators={"prrt-eligibility": "warning"}))

    v = Vignette("scope-refuted-nen", "scope", "A refuted pNET and an entered-in-error NEC: no NEN, no card")
    v.patient.condition("pnet", "C25.4", "254612002", onset="2026-03-01", verification="refuted",
                        note="Pancreatic lesion was an intrapancreatic spleen on SSTR-PET/biopsy.")
    v.patient.condition("nec", "C7A.1", onset="2026-03-01", verification="entered-in-error",
                        note="Entered on the wrong patient.")
    out.append(v.expects([], [], no_cards=True))

    v = Vignette("F-4-no-metastasis-after", "F-4", "Resected rectal NET, Condition still 'active' on the problem "
                 "list but a resection and no metastatic site: stage resected, post-resection surveillance")
    v.patient.condition("rectal-net", "C7A.026", "445238008", onset="2025-09-01", morphology="8240/3",
                        site="rectum")
    v.patient.procedure("resection", "Low anterior resection of rectum", "2025-10-06",
                        ("45111", "Proctectomy; partial resection of rectum, transabdominal approach"))
    v.patient.ki67(4, "2025-10-06")
    out.append(v.expects(["post-resection-surveillance"], ["sstr-imaging-needed", "surveillance",
                                                           "ssa-first-line"]))
    return out


def model_v2_rule_vignettes() -> list[Vignette]:
    """Decision model version 2, rules' decisions (sections 4-5): one case per class of v1 mistake."""
    out = []
    warn, info = "warning", "info"

    v = Vignette("R-1", "R-1", "Rectal NET G1, 8 mm, no metastatic site, recorded as resectable: refer for "
                 "(endoscopic) resection; no surveillance CT, no SSTR-PET request")
    gi_net(v, 1, icd="C7A.026", site="rectum", liver=False)
    v.patient.finding("resectable", True, "2026-10-20", note="8 mm rectal NET, no nodes on MRI: resectable.")
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    v.patient.finding("symptomatic", False, "2026-10-20")
    out.append(v.expects(["resection-evaluation"], ["surveillance", "sstr-imaging-needed", "ssa-first-line"]))

    v = Vignette("R-1-pnet-localized", "R-1", "Localized pNET G1 recorded as resectable: resection referral "
                 "before surveillance")
    pnet(v, 2, liver=False)
    pet(v)
    v.patient.finding("resectable", True, "2026-10-20")
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    v.patient.finding("symptomatic", False, "2026-10-20")
    out.append(v.expects(["resection-evaluation"], ["surveillance", "ssa-first-line"]))

    v = Vignette("R-1-resected-emr", "R-1", "Rectal NET removed by endoscopic mucosal resection: resected, so no "
                 "next step, no surveillance CT and no SSTR-PET request")
    gi_net(v, 1, icd="C7A.026", site="rectum", liver=False, onset="2026-03-02")
    v.patient.procedure("emr", "Endoscopic mucosal resection of rectal neuroendocrine tumour", "2026-03-20")
    out.append(v.expects([], ["resection-evaluation", "surveillance", "sstr-imaging-needed"]
                         + CHEMO_TOPICS))

    v = Vignette("R-1-resected-appendectomy", "R-1", "Appendiceal NET found at laparoscopic appendectomy: "
                 "resected, no advanced-disease card")
    gi_net(v, 2, icd="C7A.020", site=None, liver=False, onset="2026-02-11")
    v.patient.procedure("appendectomy", "Laparoscopic appendectomy", "2026-02-11")
    out.append(v.expects([], ["resection-evaluation", "surveillance", "sstr-imaging-needed"]
                         + CHEMO_TOPICS))

    v = Vignette("GI-2-resectable-not-surveillance", "GI-1", "Ileal NET G1 with liver metastases recorded as "
                 "resectable, asymptomatic, low burden: never surveillance (GI-2 needs unresectable disease)")
    gi_net(v, 1.5)
    pet(v)
    v.patient.finding("resectable", True, "2026-10-20")
    v.patient.finding("hepatic-predominant", True, "2026-10-20")
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    v.patient.finding("symptomatic", False, "2026-10-20")
    out.append(v.expects(["resection-evaluation"], ["surveillance"]))

    v = Vignette("GI-6-after-targeted", "GI-6", "Ileal NET G2 progressing after lanreotide and then everolimus, "
                 "PRRT never given, SSTR positive, eligible: PRRT offered (cabozantinib the alternative)")
    gi_net(v, 8, "8249/3", onset="2024-01-10")
    pet(v, date="2024-01-20")
    v.patient.med_statement("lanreotide", "2024-02-01", dose="120 mg deep SC every 4 weeks")
    v.patient.med_statement("everolimus", "2025-06-01", "2026-10-30", dose="10 mg by mouth once daily")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["targeted-later-line"] + CHEMO_TOPICS, rules=["GI-6", "GI-11"]))

    v = Vignette("conditional-neutral-topic", "GI-4", "Ileal NET higher G2 (Ki-67 15 %), SSTR positive, naive; "
                 "burden and symptoms unknown: a conditional card with the surveillance topic, never PRRT")
    gi_net(v, 15, "8249/3")
    pet(v)
    v.patient.finding("resectable", False, "2026-10-20")
    eligible_labs(v)
    out.append(v.expects(["surveillance"], ["prrt-first-line", "ssa-first-line"] + CHEMO_TOPICS))

    v = Vignette("G3-1-netter-2", "G3-1", "pNET G3 (Ki-67 35 %), SSTR-PET positive, high burden, naive, PRRT "
                 "eligible: CAPTEM, and Lu-177 dotatate + SSA as a first-line option (NETTER-2)")
    pnet(v, 35, "8249/3")
    pet(v, krenning=3)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    eligible_labs(v)
    out.append(v.expects(["g3-net-first-line"], ["nec-first-line", "ssa-first-line"], rules=["G3-1"]))

    v = Vignette("NEC-2", "NEC-2", "Colon NEC progressing after cisplatin-etoposide: no standard second line, "
                 "trial or FOLFIRI/FOLFOX; never platinum-etoposide again")
    nec(v)
    v.patient.med_statement("cisplatin", "2026-05-04", "2026-08-20", dose="75 mg/m2 IV day 1 every 3 weeks")
    v.patient.med_statement("etoposide", "2026-05-04", "2026-08-20", dose="100 mg/m2 IV days 1-3 every 3 weeks")
    progressing(v)
    out.append(v.expects(["nec-second-line"], ["nec-first-line"] + NEC_FORBIDDEN))

    v = Vignette("NEC-2-on-platinum-stable", "NEC-2", "NEC on cisplatin-etoposide, no progression: no "
                 "next-step card (neither first line again nor second line)")
    nec(v)
    v.patient.med_statement("cisplatin", "2026-10-05", dose="75 mg/m2 IV day 1 every 3 weeks")
    v.patient.med_statement("etoposide", "2026-10-05", dose="100 mg/m2 IV days 1-3 every 3 weeks")
    stable(v)
    out.append(v.expects([], ["nec-first-line", "nec-second-line"] + NEC_FORBIDDEN))

    v = Vignette("P-6-insulinoma-sstr-negative", "P-6", "Insulinoma, SSTR-PET negative, bulky: SSTR-negative "
                 "pNET options and hypoglycaemia control; no SSA anywhere, no cytoreduction card")
    insulinoma(v)
    pet(v, "negative")
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    out.append(v.expects(["sstr-negative-pnet", "insulinoma-control"],
                         ["ssa-first-line", "cytoreduction-first-line", "prrt-first-line"]))

    v = Vignette("P-2-insulinoma-low-glucose", "P-2", "Insulinoma, SSTR positive, low volume, glucose 38 mg/dL: "
                 "hypoglycaemia control first; the SSA option is short-acting only")
    pnet(v, 4, "8151/3", text="Malignant insulinoma")
    v.patient.condition("hyperinsulinism", "E16.1", "83469008", onset="2026-04-10")
    v.patient.lab("glucose", 38, "2026-11-20", "L")
    pet(v)
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    out.append(v.expects(["ssa-first-line", "insulinoma-control"], ["cytoreduction-first-line"],
                         indicators={"insulinoma-control": warn}, rules=["P-2", "P-7"]))

    v = Vignette("P-4-insulinoma", "P-4", "Insulinoma progressing on short-acting octreotide, SSTR positive: the "
                 "P-4 card offers PRRT with an SSA and carries the hypoglycaemia caution")
    insulinoma(v)
    pet(v)
    v.patient.med_statement("octreotide-sc", "2026-06-01", dose="100 mcg subcutaneously three times daily")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["after-ssa-pnet", "insulinoma-control"], ["cytoreduction-first-line"],
                         rules=["P-4", "P-7"]))

    v = Vignette("P-3-gastrinoma-bulky", "P-8", "Bulky gastrinoma: acid control, never the nonfunctional "
                 "cytoreduction card")
    zes(v)
    pet(v)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    out.append(v.expects(["gastrinoma-acid-control"], ["cytoreduction-first-line"]))

    # -- order-sign ------------------------------------------------------------------------------
    v = Vignette("O-TKI-3", "O-TKI-3", "Ileal NET progressing after SSA, sunitinib drafted: evidence is in "
                 "pancreatic NET; everolimus or cabozantinib", "order-sign")
    gi_net(v, 8, "8249/3")
    on_ssa(v)
    v.draft().order("sunitinib", "sunitinib", timing=daily(1), dose="37.5 mg by mouth once daily")
    out.append(v.expects(["targeted-choice"], ["targeted-nec"], indicators={"targeted-choice": warn}))

    v = Vignette("O-TKI-3-pnet", "O-TKI-3", "pNET, sunitinib drafted: no site warning", "order-sign")
    pnet(v, 8, "8249/3")
    on_ssa(v)
    v.draft().order("sunitinib", "sunitinib", timing=daily(1), dose="37.5 mg by mouth once daily")
    out.append(v.expects([], ["targeted-choice", "targeted-nec"], no_cards=True))

    v = Vignette("O-CABO-1", "O-CABO-1", "Ileal NET with no earlier therapy, SSTR positive, cabozantinib "
                 "drafted: label is for pretreated NET; SSA is the usual first step", "order-sign")
    gi_net(v, 4, "8249/3")
    pet(v)
    v.draft().order("cabozantinib", "cabozantinib", timing=daily(1), dose="60 mg by mouth once daily")
    out.append(v.expects(["targeted-choice"], ["targeted-nec"], indicators={"targeted-choice": info}))

    v = Vignette("O-TKI-1-gi-everolimus", "O-TKI-1", "Ileal NET with type 2 diabetes, everolimus drafted: "
                 "cabozantinib (never sunitinib) may suit better", "order-sign")
    gi_net(v, 8, "8249/3")
    on_ssa(v)
    v.patient.condition("diabetes", "E11.9", "44054006", onset="2014-06-01")
    v.draft().order("everolimus", "everolimus", timing=daily(1), dose="10 mg by mouth once daily")
    out.append(v.expects(["targeted-choice"], ["targeted-nec"], indicators={"targeted-choice": info}))

    v = Vignette("O-TKI-2-cabozantinib", "O-TKI-2", "NEC, cabozantinib drafted: not beneficial in NEC", "order-sign")
    nec(v)
    v.draft().order("cabozantinib", "cabozantinib", timing=daily(1), dose="60 mg by mouth once daily")
    out.append(v.expects(["targeted-nec"], ["targeted-choice"], indicators={"targeted-nec": warn}))

    v = Vignette("O-SSA-1-differentiation-unknown", "O-SSA-1", "Pancreatic NEN, Ki-67 45 %, differentiation not "
                 "recorded, lanreotide drafted: conditional ssa-nec warning asking for pathology review",
                 "order-sign")
    v.patient.condition("pnet", "C25.4", "254612002", onset="2026-05-04", site="pancreas",
                        text="Neuroendocrine neoplasm of the pancreas")
    v.patient.condition("liver-mets", "C7B.02", "94381002", onset="2026-05-04")
    v.patient.ki67(45, "2026-05-12")
    pet(v)
    v.draft().order("lanreotide", "lanreotide", timing=every_4_weeks(), dose="120 mg deep SC every 4 weeks")
    out.append(v.expects(["ssa-nec"], [], indicators={"ssa-nec": warn}))

    v = Vignette("O-PPI-2-atrophic-gastritis", "O-PPI-2", "Gastric NET with chronic atrophic gastritis (type 1 "
                 "setting) and a recent CgA, omeprazole drafted: no CgA note (CgA already uninterpretable)",
                 "order-sign")
    gi_net(v, 1, icd="C7A.092", site="stomach", liver=False)
    v.patient.condition("atrophic-gastritis", "K29.40", onset="2025-11-03")
    v.patient.lab("cga", 410, "2026-09-01", "H")
    v.patient.lab("gastrin", 880, "2026-09-01", "H")
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects([], ["ppi-cga-confound", "ppi-zes-workup"], no_cards=True))

    v = Vignette("O-PPI-1-renewal", "O-PPI-1", "pNET already on omeprazole, no gastrin on record, omeprazole "
                 "renewal drafted: no ZES-workup card (a specialist's question on a PPI)", "order-sign")
    pnet(v, 3)
    v.patient.med_statement("omeprazole", "2024-03-01", dose="20 mg by mouth once daily")
    v.draft().order("omeprazole", "omeprazole", timing=daily(1), dose="20 mg by mouth once daily")
    out.append(v.expects([], ["ppi-zes-workup", "ppi-cga-confound"], no_cards=True))
    return out


def hostile_vignettes() -> list[Vignette]:
    out = []
    v = Vignette("hostile-decimal-string", "GI-6", "Decimals sent as strings (Ki-67 '7.5', CrCl '72.5', platelets "
                 "'210'): still read, PRRT after SSA")
    gi_net(v, 7.5, "8249/3")
    pet(v)
    on_ssa(v)
    progressing(v)
    eligible_labs(v, crcl=72.5, platelets=210)

    def stringify(bundle: dict) -> None:
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["resourceType"] == "Observation" and "valueQuantity" in res:
                res["valueQuantity"]["value"] = str(res["valueQuantity"]["value"])
    v.mutations.append(stringify)
    v.hostile = True
    out.append(v.expects(["prrt-after-ssa"], ["grade-unknown", "targeted-later-line"]))

    v = Vignette("hostile-coding-object", "GI-3", "coding sent as a single object instead of an array (Condition, "
                 "Ki-67, SSTR result): still read, SSA first line")
    gi_net(v, 2)
    v.patient.condition("carcinoid-syndrome", "E34.00", onset="2026-05-04")
    pet(v)

    def single_codings(bundle: dict) -> None:
        def fix(concept: dict | None) -> None:
            if isinstance(concept, dict) and isinstance(concept.get("coding"), list) and concept["coding"]:
                concept["coding"] = concept["coding"][0]
        for entry in bundle["entry"]:
            res = entry["resource"]
            fix(res.get("code"))
            fix(res.get("valueCodeableConcept"))
    v.mutations.append(single_codings)
    v.hostile = True
    out.append(v.expects(["ssa-first-line"], ["grade-unknown", "sstr-imaging-needed"]))
    return out


VIGNETTE_HEADER = """\
# Vignette expectations (generated by tools/make_samples.py; do not edit by hand).
# One entry per case file in tests/vignettes/cases/ (keys are file names):
#   rule            the rule id exercised (net-decision-model.md; 'scope' = section 1, no NEN / out of scope)
#   hook            patient-view | order-sign
#   today           the date the rules run at
#   draft           order-sign: the draftOrders Bundle, relative to tests/vignettes/cases/
#   expect_topics   source.topic codes (model section 8) that must be present
#   expect_any_topics  at least one of these must be present (where the model leaves the topic open)
#   absent_topics   topic codes that must NOT be present
#   expect_rules    rule ids that must fire, as a card of their own or inside another card (the model puts
#                   GI-9, GI-11, P-5 and X-7 inside the next-step card, where no topic shows them)
#   no_cards        true: the response must contain no card at all
#   indicators      {topic: info|warning|critical} for cards that must be present
#   suggestions     {topic: [kinds]}, kind = create:ServiceRequest | update:MedicationRequest |
#                   delete:MedicationRequest; the card must offer at least these
#   hostile         true: the case (and its draft) is deliberately not strictly valid FHIR
#   why             one line for the reader
#   profile_card    true: the case runs with the profile card on (NET_CDS_PROFILE_CARD=on; off by default)
"""


def write_vignettes() -> None:
    cases = ROOT / "tests" / "vignettes" / "cases"
    for old in list(cases.glob("*.json")) + list((cases / "drafts").glob("*.json")):
        old.unlink()
    entries = {}
    for v in (therapy_vignettes() + cross_cutting_vignettes() + order_vignettes() + reading_vignettes()
              + model_v2_rule_vignettes() + hostile_vignettes() + _ehr_shaped().v2_vignettes()):
        bundle = v.patient.bundle()
        for mutate in v.mutations:
            mutate(bundle)
        write_json(cases / f"{v.name}.json", bundle)
        if v.drafts:
            write_json(cases / "drafts" / f"{v.name}.json", v.drafts.bundle())
        assert f"{v.name}.json" not in entries, v.name
        entries[f"{v.name}.json"] = v.entry()
    text = VIGNETTE_HEADER + yaml.safe_dump({"today": TODAY, "cases": entries}, sort_keys=False, width=110,
                                            allow_unicode=True)
    (ROOT / "tests" / "vignettes" / "expectations.yaml").write_text(text, encoding="utf-8")


# --- writing -------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent

SAMPLES_README_HEAD = """# Sample patients

Synthetic FHIR R4 `collection` Bundles, one per patient: the embedded default a new user sees with no
FHIR server, and the shared ground truth the profile builder and the rules are tested against. The
sample set is written for one date, its as-of date **{as_of}** (`as_of` in `index.yaml`): every date
in it is set relative to that day, and `net-cds call`, `explain`, `profile` and the service's warm-up
evaluate the samples as of it, whatever the calendar says (`--as-of DATE` evaluates them as of another
day). `index.yaml` lists each sample with the rule path it demonstrates (rule ids of
`net-decision-model.md`); order-sign samples name a draft-orders Bundle in `drafts/`. All files are
generated by `tools/make_samples.py` (edit the script, then run `.venv/bin/python tools/make_samples.py`);
`tests/unit/test_sample_data.py` checks them.

Encoding: ICD-10-CM and SNOMED CT for conditions, ICD-O-3 morphology in the mCODE histology extension,
LOINC for Ki-67 (29593-1), labs and disease status (97509-4), RxNorm (plus ATC or text) for drugs,
`https://fhir.net-cds.org/CodeSystem/clinical-findings` for SSTR status, Krenning score, mitotic count,
tumour burden, symptoms, resectability and hepatic predominance. SSTR imaging has no LOINC code: its
modality is in `code.text` (Ga-68 DOTATATE PET/CT, In-111 pentetreotide SPECT).

The samples vary the encodings an EHR sends: MedicationStatement, MedicationRequest and
MedicationAdministration; SSTR results as Observation (value and interpretation) or DiagnosticReport
(`conclusionCode`), with or without a Krenning score; Karnofsky or ECOG; CrCl or (flagged) eGFR; ICD-10-CM
E34.0 and the FY2026 E34.00; liver metastases as C7B.02 or C78.7; draft-orders Bundles with and without
`type`. `scope` in the rules column means model section 1 (no NEN, or an out-of-scope NEN: no card).
Minimal per-rule cases (one or more per rule id, with expected topics) are in `tests/vignettes/cases/`
and `tests/vignettes/expectations.yaml`.

| id | what it shows | rule ids | draft orders (order-sign) |
|---|---|---|---|
"""


def _ehr_shaped():
    """tools/ehr_shaped.py: the model-v2 reading cases and samples (imported late: it imports this module)."""
    import ehr_shaped  # the script's own folder is on sys.path

    return ehr_shaped


def build_samples() -> tuple[list[dict], list[tuple[Path, dict]]]:
    index, files = [], []
    for make in SAMPLES + _ehr_shaped().V2_SAMPLES:
        patient, drafts, title, rules = make()
        entry = {"id": patient.pid, "file": f"{patient.pid}.json", "title": title, "rules": rules}
        files.append((ROOT / "samples" / f"{patient.pid}.json", patient.bundle()))
        if drafts:
            entry["draft"] = f"drafts/{drafts.name}.json"
            files.append((ROOT / "samples" / "drafts" / f"{drafts.name}.json", drafts.bundle()))
        index.append(entry)
    return index, files


def write_samples() -> None:
    index, files = build_samples()
    for path, data in files:
        write_json(path, data)
    header = ("# Sample patients (generated by tools/make_samples.py; do not edit by hand).\n"
              "# as_of: the date the samples are written for (commands evaluate them as of it).\n"
              "# rules: the rule path each sample demonstrates (net-decision-model.md ids; 'scope' = section 1).\n")
    (ROOT / "samples" / "index.yaml").write_text(
        header + yaml.safe_dump({"as_of": TODAY, "samples": index}, sort_keys=False, width=110,
                                allow_unicode=True), encoding="utf-8")
    rows = [f"| `{e['id']}` | {e['title']} | {', '.join(e['rules'])} | "
            f"{'`' + e['draft'] + '`' if e.get('draft') else ''} |" for e in index]
    readme = SAMPLES_README_HEAD.format(as_of=TODAY) + "\n".join(rows) + "\n"
    (ROOT / "samples" / "README.md").write_text(readme, encoding="utf-8")


def main() -> None:
    write_samples()
    write_vignettes()


if __name__ == "__main__":
    main()
