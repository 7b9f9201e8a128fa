"""Vignettes and samples for decision model v2, sections 1-3 ("reading the record right"), built the way
EHRs send data: SNOMED-only Conditions, verificationStatus, ICD-O-3 in the mCODE histology extension,
partial dates ("2024", "2024-03"), effectivePeriod, DiagnosticReports with `issued` only and free-text
conclusions, MAR records (MedicationAdministration), Epic/Oracle-shaped MedicationRequest timing (code
BID, frequency/period, `when`), FamilyMemberHistory, germline test reports, glucose in mmol/L.

Imported by tools/make_samples.py (`v2_vignettes()`, `V2_SAMPLES`); run that script, not this one.
"""

from __future__ import annotations

from make_samples import (
    CHEMO_TOPICS,
    COND_CLIN,
    COND_VER,
    LOINC,
    SCT,
    THERAPY_TOPICS,
    TIMING_ABBR,
    Patient,
    Vignette,
    cc,
    daily,
    drug_cc,
    eligible_labs,
    gi_net,
    pet,
    pnet,
    progressing,
    stable,
)

V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
HGNC = "http://www.genenames.org/geneId"
EVENT_TIMING = "http://hl7.org/fhir/event-timing"


# --- EHR-shaped building blocks -----------------------------------------------------------------


def _resource(p: Patient, ref: str) -> dict:
    return next(r for r in p.resources if f"{r['resourceType']}/{r['id']}" == ref)



def snomed_condition(p: Patient, suffix: str, code: str, display: str, onset: str, verification: str = "confirmed",
                     clinical: str = "active", morphology: tuple[str, str] | None = None) -> str:
    """A Condition coded only in SNOMED CT (as many EHR problem lists send it), onset possibly partial."""
    res: dict = {"resourceType": "Condition"}
    if morphology:
        res["extension"] = [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                    "mcode-histology-morphology-behavior",
                             "valueCodeableConcept": cc("http://terminology.hl7.org/CodeSystem/icd-o-3",
                                                        morphology[0], morphology[1])}]
    res.update({"clinicalStatus": cc(COND_CLIN, clinical, clinical.capitalize()),
                "verificationStatus": cc(COND_VER, verification, verification.capitalize()),
                "code": cc(SCT, code, display, display), "subject": {"reference": p.ref},
                "onsetDateTime": onset})
    return p.add(res, suffix)


def mar_dose(p: Patient, drug: str, when: str, suffix: str, request: str | None = None,
             dose: tuple[float, str] = (120, "mg")) -> str:
    """A MAR record: a clinic-given dose (MedicationAdministration, completed), optionally fulfilling a request."""
    res: dict = {"resourceType": "MedicationAdministration", "status": "completed",
                 "medicationCodeableConcept": drug_cc(drug), "subject": {"reference": p.ref},
                 "effectiveDateTime": f"{when}T10:15:00-05:00",
                 "dosage": {"route": cc(SCT, "34206005", "Subcutaneous route"),
                            "dose": {"value": dose[0], "unit": dose[1], "system": "http://unitsofmeasure.org",
                                     "code": dose[1]}}}
    if request:
        res["request"] = {"reference": request}
    return p.add(res, suffix)


def clinic_order(p: Patient, drug: str, authored: str, suffix: str, weeks: int = 4) -> str:
    """Oracle-shaped clinic order: frequency/period in weeks, boundsPeriod start (partial date allowed)."""
    res = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
           "medicationCodeableConcept": drug_cc(drug), "subject": {"reference": p.ref}, "authoredOn": authored,
           "dosageInstruction": [{"text": f"every {weeks} weeks in clinic",
                                  "timing": {"repeat": {"boundsPeriod": {"start": authored[:7]},
                                                        "frequency": 1, "period": weeks, "periodUnit": "wk"}}}]}
    return p.add(res, suffix)


def free_text_report(p: Patient, suffix: str, title: str, issued: str, conclusion: str) -> str:
    """A DiagnosticReport with `issued` only (no effective[x]) and a free-text conclusion (no coded result)."""
    res = {"resourceType": "DiagnosticReport", "status": "final",
           "category": [cc("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")],
           "code": cc(text=title), "subject": {"reference": p.ref}, "issued": issued, "conclusion": conclusion}
    return p.add(res, suffix)


def family_men1(p: Patient, relation: str, display: str, date: str = "2025-09") -> str:
    res = {"resourceType": "FamilyMemberHistory", "status": "completed", "patient": {"reference": p.ref},
           "date": date, "relationship": cc(V3_ROLE, relation, display, display),
           "condition": [{"code": cc(SCT, "30664006", "Multiple endocrine neoplasia, type 1",
                                     "Multiple endocrine neoplasia type 1")}]}
    return p.add(res, f"fmh-{relation.lower()}")


def germline_negative(p: Patient, issued: str = "2026-08-14T12:00:00Z") -> str:
    res = {"resourceType": "DiagnosticReport", "status": "final",
           "code": cc(LOINC, "51969-4", "Genetic analysis report", "MEN1 gene sequencing and deletion/duplication"),
           "subject": {"reference": p.ref}, "issued": issued,
           "conclusion": "NEGATIVE: no pathogenic or likely pathogenic variant identified in MEN1 (HGNC:7010)."}
    return p.add(res, "men1-germline")


def epic_ppi(d, suffix: str = "omeprazole") -> dict:
    """Epic-shaped PPI order: timing.code BID with `when` before meals."""
    order = d.order("omeprazole-40", suffix, dose="40 mg by mouth twice daily before meals")
    order["dosageInstruction"][0]["timing"] = {
        "repeat": {"when": ["ACM", "ACV"]},
        "code": {"coding": [{"system": TIMING_ABBR, "code": "BID", "display": "BID"}], "text": "BID"}}
    return order


# --- vignettes -----------------------------------------------------------------------------------


def v2_vignettes() -> list[Vignette]:
    out: list[Vignette] = []

    v = Vignette("SCOPE-1", "SCOPE-1", "Lung carcinoid with a coded liver metastasis "
                 "(C7B.02): the secondary code never puts it in scope; no GI advice")
    p = v.patient
    p.condition("lung-net", "C7A.090", "443492008", onset="2025-03", morphology="8240/3", site="lung")
    p.condition("liver-mets", "C7B.02", onset="2026-06-02")
    p.ki67(4, "2025-03-20")
    pet(v)
    out.append(v.expects(["net-profile"], THERAPY_TOPICS + ["sstr-imaging-needed", "grade-unknown"],
                         rules=["SCOPE-1"]))

    v = Vignette("P-3-remission-primary-liver-recurrence", "P-3", "pNET primary in remission (2021) with a "
                 "recurrence coded only as a liver metastasis (SNOMED 94381002): the pancreatic pathway, not GI")
    p = v.patient
    p.condition("pnet", "C25.4", "254612002", onset="2021", clinical="remission", morphology="8240/3",
                site="pancreas")
    snomed_condition(p, "liver-recurrence", "94381002", "Secondary malignant neoplasm of liver", "2026-09-15")
    p.ki67(12, "2026-09-30")
    pet(v, date="2026-10-02")
    p.finding("tumor-burden", "high", "2026-10-20")
    p.finding("symptomatic", False, "2026-10-20")
    p.finding("resectable", False, "2026-10-20")
    out.append(v.expects(["cytoreduction-first-line"], ["ssa-first-line", "prrt-first-line", "surveillance"],
                         rules=["P-3"]))

    v = Vignette("SUSPECT-1", "SUSPECT-1", "Confirmed ileal NET, Ki-67 5 %, with a differential "
                 "NEC code: no platinum-etoposide; the card is conditional and names the unconfirmed NEC")
    gi_net(v, 5, "8249/3")
    v.patient.condition("nec-ddx", "C7A.1", onset="2026-06-01", verification="differential",
                        text="Poorly differentiated neuroendocrine carcinoma (differential)")
    pet(v)
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    out.append(v.expects(["ssa-first-line"], ["nec-first-line"], rules=["SUSPECT-1"]))

    v = Vignette("SCOPE-3", "SCOPE-3", "Pancreatic NET recorded only as provisional (SNOMED "
                 "only, partial onset date): not a NEN patient; one info card naming the unconfirmed diagnosis")
    snomed_condition(v.patient, "pnet-provisional", "254612002", "Carcinoma of endocrine pancreas", "2026-10",
                     verification="provisional")
    out.append(v.expects(["net-profile"], THERAPY_TOPICS + ["grade-unknown", "sstr-imaging-needed"],
                         rules=["SCOPE-3"]))

    v = Vignette("O-PPI-1-provisional-zes", "O-PPI-1", "Provisional ZES (SNOMED 53132006 only) and an Epic BID "
                 "omeprazole draft: gastrin workup first, never gastrinoma dosing advice", hook="order-sign")
    snomed_condition(v.patient, "zes-provisional", "53132006", "Zollinger-Ellison syndrome", "2026-11",
                     verification="provisional")
    epic_ppi(v.draft())
    out.append(v.expects(["ppi-zes-workup"], ["ppi-gastrinoma-dosing", "ppi-cga-confound"],
                         indicators={"ppi-zes-workup": "warning"},
                         suggestions={"ppi-zes-workup": ["create:ServiceRequest"]}))

    v = Vignette("P-8-provisional-zes", "P-8", "Confirmed pNET with a provisional ZES: gastrinoma acid control "
                 "is conditional (names the unconfirmed ZES); no MEN1 card from the suspicion alone")
    pnet(v, 4)
    v.patient.condition("zes", "E16.4", "53132006", onset="2026-10-01", verification="provisional")
    pet(v)
    out.append(v.expects(["gastrinoma-acid-control"], ["men1-evaluation"], rules=["P-8"]))

    v = Vignette("GI-6-pet-for-prrt-eligibility", "GI-6", "'Ga-68 DOTATATE PET for PRRT eligibility' is "
                 "diagnostic SSTR imaging, not a therapy record: PRRT is offered after SSA progression")
    gi_net(v, 6, "8249/3")
    p = v.patient
    p.sstr("Ga-68 DOTATATE PET/CT for PRRT eligibility", "positive", "2026-10-28", as_report=True,
           note="Intense SSTR-avid hepatic disease, Krenning 3. Suitable for PRRT.")
    p.procedure("pet-prrt-eligibility", "Ga-68 DOTATATE PET for PRRT eligibility", "2026-10-28")
    p.med_statement("octreotide-lar", "2025-02-03", dose="30 mg IM every 4 weeks")
    progressing(v)
    eligible_labs(v)
    out.append(v.expects(["prrt-after-ssa"], ["sstr-imaging-needed", "post-prrt-monitoring", "after-prrt"],
                         rules=["GI-6"]))

    v = Vignette("X-2b", "X-2b", "SSTR-PET report with `issued` only and a free-text "
                 "conclusion (no coded result): ask for the result as coded data, no new scan, no SSA advice")
    gi_net(v, 4, "8249/3")
    free_text_report(v.patient, "sstr-pet", "Ga-68 DOTATATE PET/CT", "2026-10-30T14:20:00Z",
                     "Multiple hepatic lesions, see prior. Compared with CT of 2026-09.")
    v.patient.finding("tumor-burden", "high", "2026-10-20")
    v.patient.finding("resectable", False, "2026-10-20")
    # the next-step card is conditional on the SSTR result (its topic is the least aggressive branch's)
    out.append(v.expects(["sstr-imaging-needed"], ["prrt-first-line", "targeted-first-line"], rules=["X-2b"]))

    v = Vignette("GI-10-clinic-lanreotide", "GI-10", "Lanreotide given monthly in clinic (MAR records linked to "
                 "an Oracle-shaped q4-week order): the SSA is active, so refractory-syndrome advice fires")
    gi_net(v, 2)
    p = v.patient
    p.condition("carcinoid-syndrome", "E34.0", "35868009", onset="2025-01")
    pet(v)
    order = clinic_order(p, "lanreotide", "2025-01-06", "lanreotide-clinic")
    _resource(p, order)["status"] = "completed"  # Oracle closes the order after each clinic visit
    for i, when in enumerate(["2026-09-07", "2026-10-05", "2026-11-02"], start=1):
        mar_dose(p, "lanreotide", when, f"lanreotide-mar-{i}", request=order)
    p.finding("symptomatic", True, "2026-11-20", note="6-8 stools a day and flushing despite lanreotide")
    stable(v)
    out.append(v.expects(["hormone-control"], [], rules=["GI-10"]))

    v = Vignette("F-1-mar-octreotide", "F-1", "Octreotide LAR 30 mg given in clinic (MAR only, no order, no "
                 "interval): active for 28 days after the last dose; stable metastatic NET gets the SSA follow-up")
    gi_net(v, 2)
    pet(v)
    for i, when in enumerate(["2026-10-06", "2026-11-03"], start=1):
        mar_dose(v.patient, "octreotide-lar", when, f"octreotide-mar-{i}", dose=(30, "mg"))
    v.patient.finding("tumor-burden", "low", "2026-10-20")
    stable(v)
    out.append(v.expects(["follow-up-schedule"], ["surveillance"], rules=["F-1"]))

    v = Vignette("X-1-ki67-pending", "X-1", "Ki-67 valueString 'Pending - see addendum 2': no result, so the grade "
                 "is unknown (never graded from the addendum number)")
    gi_net(v, None)
    pending = v.patient.ki67(None, "2026-05", value_string="Pending - see addendum 2")
    _resource(v.patient, pending)["issued"] = "2026-05-14T09:30:00Z"  # effective partial, issued an instant
    pet(v)
    out.append(v.expects(["grade-unknown"], ["surveillance", "ssa-first-line", "prrt-first-line",
                                              "targeted-first-line"], rules=["X-1"]))

    v = Vignette("X-6-mother-men1", "X-6", "Single nonfunctional pNET and a mother with MEN1 "
                 "(FamilyMemberHistory): MEN1 germline testing")
    pnet(v, 3)
    pet(v)
    family_men1(v.patient, "MTH", "mother")
    out.append(v.expects(["men1-evaluation"], [], rules=["X-6"]))

    v = Vignette("X-6-tested-negative", "X-6", "Gastrinoma with a mother with MEN1, but the patient's MEN1 germline "
                 "test found no pathogenic variant: no MEN1 card")
    pnet(v, 3, "8153/3", text="Gastrinoma of the pancreatic head")
    v.patient.condition("zes", "E16.4", "53132006", onset="2026-04-20")
    family_men1(v.patient, "MTH", "mother")
    germline_negative(v.patient)
    pet(v)
    out.append(v.expects(["gastrinoma-acid-control"], ["men1-evaluation"]))

    v = Vignette("SCOPE-2", "SCOPE-2", "16-year-old with an appendiceal NET: only the under-18 "
                 "info card, no adult therapy or gap cards")
    v.patient.resources[0]["birthDate"] = "2010-03"
    v.patient.condition("appendix-net", "C7A.020", onset="2026-08-11", morphology="8240/3")
    v.patient.ki67(1, "2026-08-11")
    out.append(v.expects(["net-profile"], THERAPY_TOPICS + ["grade-unknown", "sstr-imaging-needed"],
                         rules=["SCOPE-2"]))

    v = Vignette("SCOPE-2-adolescent-nec-ssa", "O-SSA-1", "16-year-old with a NEC and an SSA draft: the critical "
                 "order-sign safety card still applies under 18", hook="order-sign")
    v.patient.resources[0]["birthDate"] = "2010-03-02"
    v.patient.condition("nec", "C7A.1", onset="2026-09-20", morphology="8246/3")
    v.patient.ki67(70, "2026-09-25")
    v.draft().order("octreotide-lar", "octreotide", dose="30 mg IM every 4 weeks",
                    timing={"repeat": {"frequency": 1, "period": 28, "periodUnit": "d"}})
    out.append(v.expects(["ssa-nec"], ["sstr-imaging-needed"], indicators={"ssa-nec": "critical"}))

    v = Vignette("O-SSA-1-suspected-nec", "O-SSA-1", "Ileal NET (Ki-67 12 %) with a differential NEC and an "
                 "SSA draft: a conditional ssa-nec warning naming the unconfirmed NEC", hook="order-sign")
    gi_net(v, 12, "8249/3")
    v.patient.condition("nec-ddx", "C7A.1", onset="2026-06-01", verification="differential")
    pet(v)
    v.draft().order("lanreotide", "lanreotide", dose="120 mg deep SC every 4 weeks",
                    timing={"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}})
    out.append(v.expects(["ssa-nec"], [], indicators={"ssa-nec": "warning"}))

    v = Vignette("O-SSA-3-unreadable-sstr", "O-SSA-3", "SSA drafted while the SSTR-PET report holds only free "
                 "text: ask for the result on file, not a new scan", hook="order-sign")
    gi_net(v, 4)
    free_text_report(v.patient, "sstr-pet", "Ga-68 DOTATATE PET/CT", "2026-10-30T14:20:00Z",
                     "Hepatic lesions as before; see report addendum.")
    v.draft().order("octreotide-lar", "octreotide", dose="30 mg IM every 4 weeks",
                    timing={"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}})
    out.append(v.expects(["sstr-imaging-needed"], ["ssa-sstr-negative"]))

    v = Vignette("GI-3-unresolved-medication", "GI-3", "A MedicationRequest whose medicationReference cannot be "
                 "resolved (no display): never silent, the next-step card lists it as missing")
    gi_net(v, 2)
    pet(v)
    v.patient.condition("carcinoid-syndrome", "E34.0", onset="2026-05-04")
    v.patient.add({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                   "medicationReference": {"reference": "Medication/not-sent"},
                   "subject": {"reference": v.patient.ref}, "authoredOn": "2026-10-01",
                   "dosageInstruction": [{"timing": daily(1)}]}, "unknown-med")
    v.expect["unresolved"] = ["Medication/not-sent"]  # on purpose: the FHIR server did not send it
    out.append(v.expects(["ssa-first-line"], CHEMO_TOPICS, rules=["GI-3"]))
    return out


# --- samples --------------------------------------------------------------------------------------


def sample_clinic_lanreotide():
    p = Patient("net-si-clinic-lanreotide", "1957-02-19", "female", "Brennan", "Maeve")
    p.condition("si-net", "C7A.012", "445238008", onset="2024-03", morphology="8240/3", site="ileum")
    snomed_condition(p, "liver-mets", "94381002", "Secondary malignant neoplasm of liver", "2024-03")
    snomed_condition(p, "carcinoid-syndrome", "35868009", "Carcinoid syndrome", "2024-03")
    p.ki67(2, "2024-03-21")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2024-04-02", krenning=3)
    order = clinic_order(p, "lanreotide", "2024-04-15", "lanreotide-clinic")
    for i, when in enumerate(["2026-09-14", "2026-10-12", "2026-11-09"], start=1):
        mar_dose(p, "lanreotide", when, f"lanreotide-mar-{i}", request=order)
    p.finding("symptomatic", True, "2026-11-20", note="Flushing and 6 stools a day on monthly lanreotide")
    p.lab("5hiaa", 38, "2026-11-12", "H")
    p.disease_status("stable", "2026-10-30")
    return (p, None, "Ileal NET G1, carcinoid syndrome, lanreotide given monthly in clinic (MAR records): the SSA "
            "counts as active, so syndrome escalation and SSA follow-up apply", ["GI-10", "F-1", "X-9"])


def sample_suspected_nec():
    p = Patient("net-si-differential-nec", "1963-11-07", "male", "Sato", "Kenji")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-04-14", morphology="8249/3", site="ileum")
    p.condition("liver-mets", "C7B.02", "94381002", onset="2026-04-14")
    p.condition("nec-ddx", "C7A.1", onset="2026-04-14", verification="differential",
                text="Poorly differentiated neuroendocrine carcinoma (differential diagnosis)")
    p.ki67(5, "2026-04-20")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-05-02", krenning=3, as_report=True)
    p.finding("tumor-burden", "high", "2026-10-20")
    p.finding("resectable", False, "2026-10-20")
    return (p, None, "Ileal NET G2 (Ki-67 5 %) with a differential NEC code: NET pathway, card conditional on "
            "ruling out the NEC (never platinum-etoposide from a differential)", ["SUSPECT-1", "GI-3", "X-9"])


def sample_remission_recurrence():
    p = Patient("net-pnet-remission-liver-recurrence", "1969-08-23", "female", "Novak", "Irena")
    p.condition("pnet", "C25.4", "254612002", onset="2020-02", clinical="remission", morphology="8240/3",
                site="pancreas-tail", note="Distal pancreatectomy 2020, pT2 N0, Ki-67 6 %.")
    p.condition("liver-recurrence", "C78.7", onset="2026-09-15", text="Liver metastases (recurrence)")
    p.ki67(14, "2026-09-30")
    p.sstr("Ga-68 DOTATATE PET/CT", "positive", "2026-10-02", krenning=3)
    p.finding("tumor-burden", "high", "2026-10-20")
    p.finding("symptomatic", False, "2026-10-20")
    p.finding("resectable", False, "2026-10-20")
    p.prrt_labs("2026-11-10")
    return (p, None, "pNET in remission since 2020 with a liver recurrence coded only as C78.7: the pancreatic "
            "pathway from the remission primary (never GI by default)", ["P-3", "X-9"])


def sample_pet_free_text():
    p = Patient("net-si-pet-free-text", "1960-01-30", "male", "Adeyemi", "Tunde")
    p.condition("si-net", "C7A.012", "445238008", onset="2026-06-03", morphology="8240/3", site="ileum")
    snomed_condition(p, "liver-mets", "94381002", "Secondary malignant neoplasm of liver", "2026-06")
    p.ki67(3.5, "2026-06-10")
    free_text_report(p, "sstr-pet", "Ga-68 DOTATATE PET/CT whole body", "2026-07-01T15:05:00Z",
                     "Multiple hepatic lesions and mesenteric mass. Please see addendum for comparison.")
    p.finding("tumor-burden", "high", "2026-10-20")
    p.finding("resectable", False, "2026-10-20")
    return (p, None, "Ileal NET G2 whose SSTR-PET report holds only free text (`issued` only): the result is asked "
            "for as coded data, no new scan, and the next step stays conditional", ["X-2b", "X-9"])


V2_SAMPLES = [sample_clinic_lanreotide, sample_suspected_nec, sample_remission_recurrence, sample_pet_free_text]
