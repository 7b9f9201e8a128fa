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

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
UCUM = "http://unitsofmeasure.org"
CAP = "https://cap.org/eCC"
FINDINGS = "https://fhir.net-cds.org/CodeSystem/clinical-findings"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"
MCODE_HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
TIMING_ABBR = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
BASE = "http://ehr.example.org/fhir"

# --- vocabularies (codes.md) -------------------------------------------------------------------

ICD = {
    "C25.4": "Malignant neoplasm of endocrine pancreas",
    "C7A.010": "Malignant carcinoid tumor of the duodenum",
    "C7A.011": "Malignant carcinoid tumor of the jejunum",
    "C7A.012": "Malignant carcinoid tumor of the ileum",
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
    "8154/3": "Mixed cell adenocarcinoma",
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
             value_string: str | None = None) -> str:
        value_el = ({"valueString": value_string} if value_string is not None
                    else {"valueQuantity": qty(value, "%")})
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
            self._obs(f"{suffix}-krenning", "imaging",
                      cc(FINDINGS, "krenning-score", "Krenning score", "Krenning score"), date,
                      {"valueInteger": krenning}, derivedFrom=[{"reference": ref}])
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
                      suffix: str | None = None, dose: str | None = None, coding: str = "full") -> str:
        period = {"start": start}
        if end:
            period["end"] = end
        res = {"resourceType": "MedicationStatement", "status": status or ("completed" if end else "active"),
               "medicationCodeableConcept": drug_cc(drug, coding), "subject": {"reference": self.ref},
               "effectivePeriod": period, "dateAsserted": end or max(start, "2026-11-20")}
        if dose:
            res["dosage"] = [{"text": dose}]
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

    def administration(self, drug: str, date: str, suffix: str, dose: str | None = None) -> str:
        res = {"resourceType": "MedicationAdministration", "status": "completed",
               "medicationCodeableConcept": drug_cc(drug), "subject": {"reference": self.ref},
               "effectiveDateTime": date}
        if dose:
            res["dosage"] = {"text": dose}
        return self.add(res, suffix)

    def prrt_cycles(self, dates: list[str], suffix: str = "prrt") -> list[str]:
        return [self.administration("lutathera", d, f"{suffix}-{i}", dose="7.4 GBq (200 mCi) IV")
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
    p.med_statement("omeprazole-40", "2025-01-25", dose="40 mg by mouth once daily")
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
    p.administration("octreotide-lar", "2026-11-05", "octreotide-lar-dose", dose="30 mg IM")
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
    p.med_statement("lanreotide", "2024-11-04", dose="120 mg deep SC every 4 weeks")
    p.disease_status("progressing", "2026-11-06", note="CT: liver metastases +28 % (RECIST PD).")
    p.finding("tumor-burden", "high", "2026-11-06")
    p.lab("hba1c", 7.9, "2026-10-30", "H")
    p.lab("glucose", 168, "2026-10-30", "H")
    p.lab("crcl", 71, "2026-10-30")
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


SAMPLES = [
    sample_no_nen, sample_lung, sample_resected, sample_gastrinoma, sample_insulinoma, sample_nec,
    sample_syndrome_refractory, sample_progressing_on_ssa, sample_after_prrt_durable, sample_after_prrt_early,
    sample_rectal_sstr_negative, sample_pnet_diabetes, sample_g3_aggressive, sample_g3_indolent,
    sample_unknown_burden, sample_resectable_liver, sample_bulky_high_g2, sample_pnet_low_volume,
    sample_pnet_negative_srs, sample_vipoma,
]

def write_vignettes() -> None:
    pass


# --- writing -------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent

SAMPLES_README_HEAD = """# Sample patients

Synthetic FHIR R4 `collection` Bundles, one per patient: the embedded default a new user sees with no
FHIR server, and the shared ground truth the profile builder and the rules are tested against. Dates
are relative to **2026-11-28** ("today" for the rules). `index.yaml` lists each sample with the rule
path it demonstrates (rule ids of `net-decision-model.md`); order-sign samples name a draft-orders
Bundle in `drafts/`. All files are generated by `tools/make_samples.py` (edit the script, then run
`.venv/bin/python tools/make_samples.py`); `tests/unit/test_sample_data.py` checks them.

Encoding: ICD-10-CM and SNOMED CT for conditions, ICD-O-3 morphology in the mCODE histology extension,
LOINC for Ki-67 (29593-1), labs and disease status (97509-4), RxNorm (plus ATC or text) for drugs,
`https://fhir.net-cds.org/CodeSystem/clinical-findings` for SSTR status, Krenning score, mitotic count,
tumour burden, symptoms, resectability and hepatic predominance. SSTR imaging has no LOINC code: its
modality is in `code.text` (Ga-68 DOTATATE PET/CT, In-111 pentetreotide SPECT).

| id | what it shows | rule ids | draft orders (order-sign) |
|---|---|---|---|
"""


def build_samples() -> tuple[list[dict], list[tuple[Path, dict]]]:
    index, files = [], []
    for make in SAMPLES:
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
              "# rules: the rule path each sample demonstrates (net-decision-model.md ids; 'scope' = section 1).\n")
    (ROOT / "samples" / "index.yaml").write_text(
        header + yaml.safe_dump({"today": TODAY, "samples": index}, sort_keys=False, width=110,
                                allow_unicode=True), encoding="utf-8")
    rows = [f"| `{e['id']}` | {e['title']} | {', '.join(e['rules'])} | "
            f"{'`' + e['draft'] + '`' if e.get('draft') else ''} |" for e in index]
    (ROOT / "samples" / "README.md").write_text(SAMPLES_README_HEAD + "\n".join(rows) + "\n", encoding="utf-8")


def main() -> None:
    write_samples()
    write_vignettes()


if __name__ == "__main__":
    main()
