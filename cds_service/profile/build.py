"""build_profile: one pass over the patient record, then the derived classifications.

net-decision-model.md sections 2 and 3. The pass dispatches each resource by resourceType to a small
reader (conditions, pathology, imaging, medications, labs, disease); a resource that cannot be read at
all adds a data-quality note and is skipped, so a hostile record still yields a profile (never a crash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.bounded_cache import text_cache
from cds_service.fhir.record import PatientRecord
from cds_service.profile import conditions as cond
from cds_service.profile import disease, eligibility, glucose, imaging, labs, medications, men1, pathology
from cds_service.profile.codes import Entry, codings, index
from cds_service.profile.fhirread import as_dict, as_list, parse_date, reference_of, status_code, text_of
from cds_service.profile.model import (
    DataQualityNote,
    DraftOrder,
    Fact,
    FunctionalSyndrome,
    PatientProfile,
    Source,
    SstrStudy,
    SuspectedDiagnosis,
)

IGNORED_OBSERVATION_STATUS = frozenset({"entered-in-error", "cancelled"})
# When several syndromes are coded, the one shown first (the others stay in functional_syndromes).
SYNDROME_PRIORITY: tuple[FunctionalSyndrome, ...] = (
    "insulinoma", "gastrinoma", "vipoma", "glucagonoma", "somatostatinoma", "carcinoid-syndrome",
)


@dataclass
class Collected:
    """Everything the single pass found, before derivation."""

    conditions: list[cond.ConditionHit] = field(default_factory=list)
    specimens: list[pathology.SpecimenValue] = field(default_factory=list)
    morphology: list[pathology.Evidence] = field(default_factory=list)
    morphology_syndromes: list[tuple[str, Source]] = field(default_factory=list)
    sstr: list[SstrStudy] = field(default_factory=list)
    events: list[medications.TherapyEvent] = field(default_factory=list)
    labs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # lab name -> its Observations
    performance: list[labs.PerformanceReading] = field(default_factory=list)
    findings: dict[str, list[disease.Finding]] = field(default_factory=dict)
    resections: list[Source] = field(default_factory=list)
    men1_family: list[tuple[Source, bool | None]] = field(default_factory=list)  # (source, first degree?)
    germline: list[men1.GermlineResult] = field(default_factory=list)  # MEN1 germline tests
    unknown_medications: list[Source] = field(default_factory=list)  # drug not identifiable (section 2)
    notes: list[DataQualityNote] = field(default_factory=list)

    def note(self, message: str, reference: str | None = None, field_name: str | None = None) -> None:
        self.notes.append(DataQualityNote(message, reference, field_name))


Handler = Callable[[dict[str, Any], PatientRecord, Collected, date], None]


@text_cache(maxsize=4096)
def _observation_text_kind(text: str) -> str | None:
    """For an Observation with no known code: 'sstr', 'mitoses', 'ki67-lookalike' or None (cached by text)."""
    if not text:
        return None
    modality = imaging.modality_of(text, [])
    if modality is not None and modality != "not-imaging":
        return "sstr-text"
    obs = index("observations")
    if obs.text("observation", text) is not None:
        return "mitoses"
    if obs.text("ki67_lookalike_text", text) is not None:
        return "ki67-lookalike"
    if obs.text("germline_gene_text", text) is not None:
        return "germline"
    return None


_VALUE_KEYS = ("valueQuantity", "valueString", "valueInteger", "valueRange", "valueCodeableConcept", "valueBoolean")


def _components(resource: dict[str, Any], c: Collected) -> None:
    """Ki-67 / mitotic count sent as a component of a panel Observation (read like the Observation itself)."""
    for comp in as_list(resource.get("component")):
        comp = as_dict(comp)
        entry = index("observations").first(codings(comp.get("code")), "observation")
        kind = str(entry.get("kind")) if entry else None
        if kind in ("ki67", "mitoses"):
            pseudo = {k: v for k, v in resource.items() if k not in _VALUE_KEYS and k != "component"}
            pseudo.update({k: v for k, v in comp.items() if k in _VALUE_KEYS or k == "code"})
            c.specimens.append(pathology.read_specimen(pseudo, kind))
            c.note(f"{kind} read from a component of the Observation", reference_of(resource), kind)


def _observation(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    status = status_code(resource.get("status"))  # read once: also decides the "preliminary" note below
    if status in IGNORED_OBSERVATION_STATUS:
        return
    if "component" in resource:
        _components(resource, c)
    entry = index("observations").first_of(resource.get("code"), "observation")
    if entry is None:
        _uncoded_observation(resource, record, c)
        return
    kind = str(entry.get("kind"))
    if kind in ("lab", "renal"):  # most Observations of a large record, so tested first (performance)
        c.labs.setdefault(str(entry.get("lab")), []).append(resource)
    else:
        _coded_observation(resource, record, c, entry, kind)
    if kind != "ki67-presence" and status == "preliminary":  # labs.is_preliminary, status read once
        c.note("preliminary result used", reference_of(resource))


def _uncoded_observation(resource: dict[str, Any], record: PatientRecord, c: Collected) -> None:
    """An Observation with no known code, recognised (or not) by its text."""
    kind = _observation_text_kind(text_of(resource.get("code")))
    if kind == "sstr-text":
        study = imaging.read_sstr(resource, record)
        if study is not None:
            c.sstr.append(study)
    elif kind == "mitoses":
        c.specimens.append(pathology.read_specimen(resource, "mitoses"))
        c.note("mitotic count recognised by text (no known code)", reference_of(resource), "mitotic_count")
    elif kind == "ki67-lookalike":
        c.note("looks like Ki-67 but is not coded LOINC 29593-1: not used", reference_of(resource), "ki67_percent")
    elif kind == "germline":
        _germline(resource, c)


def _germline(resource: dict[str, Any], c: Collected) -> None:
    test = men1.read_germline(resource)
    if test is not None:
        c.germline.append(test)


def _coded_observation(resource: dict[str, Any], record: PatientRecord, c: Collected, entry: Entry,
                       kind: str) -> None:
    """A coded Observation other than a lab result, by the kind of its code."""
    if kind in ("ki67", "mitoses"):
        c.specimens.append(pathology.read_specimen(resource, kind))
    elif kind == "morphology":
        found = pathology.read_morphology_observation(resource)
        if found is not None:
            c.morphology.append(found[0])
            if found[1]:
                c.morphology_syndromes.append((found[1], found[0].source))
    elif kind == "disease-status":
        c.findings.setdefault("disease_status", []).append(disease.read_disease_status(resource))
    elif kind == "finding":
        name = str(entry.get("finding"))
        c.findings.setdefault(name, []).append(disease.read_finding(resource, name))
    elif kind == "sstr":
        study = imaging.read_sstr(resource, record, "sstr")
        if study is not None:
            c.sstr.append(study)
    elif kind == "performance":
        c.performance.append(labs.read_performance(resource, entry))
    elif kind == "germline":
        _germline(resource, c)


def _condition(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    hit = cond.read_condition(resource)
    if hit is not None:
        c.conditions.append(hit)


def _imaging(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    study = imaging.read_sstr(resource, record)
    if study is not None:
        c.sstr.append(study)


def _procedure(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    event = medications.read_prrt_procedure(record, resource)
    if event is not None:
        c.events.append(event)
        return
    resection = disease.read_resection(resource)
    if resection is not None:
        c.resections.append(resection)
        return
    _imaging(resource, record, c, today)


def _medication(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    events = medications.read_medication(record, resource, today)
    if not events:
        unreadable = medications.unreadable_medication_note(record, resource)
        if unreadable is not None:
            c.note(unreadable, reference_of(resource), "therapies")
            c.unknown_medications.append(medications.source_of(resource, "medication not identifiable"))
    c.events.extend(events)
    for note in dict.fromkeys(n for e in events for n in e.notes):  # de-duplicated, first-seen order (not hash order)
        c.note(note, reference_of(resource), "therapies")


def _service_request(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    event = medications.read_service_request(record, resource)
    if event is not None:
        c.events.append(event)


def _family_history(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    found = men1.read_family_history(resource)
    if found is not None:
        c.men1_family.append(found)


def _report(resource: dict[str, Any], record: PatientRecord, c: Collected, today: date) -> None:
    """A DiagnosticReport: a MEN1 germline test (X-6), else perhaps SSTR imaging."""
    test = men1.read_germline(resource)
    if test is not None:
        c.germline.append(test)
        return
    _imaging(resource, record, c, today)


_HANDLERS: dict[str, Handler] = {
    "Observation": _observation,
    "Condition": _condition,
    "DiagnosticReport": _report,
    "ImagingStudy": _imaging,
    "Procedure": _procedure,
    "MedicationStatement": _medication,
    "MedicationRequest": _medication,
    "MedicationAdministration": _medication,
    "ServiceRequest": _service_request,
    "FamilyMemberHistory": _family_history,
}


def collect(record: PatientRecord, today: date) -> Collected:
    """The single pass over the record's resources."""
    c = Collected()
    for resource in record.resources:
        if not isinstance(resource, dict):
            continue
        handler = _HANDLERS.get(resource.get("resourceType"))  # type: ignore[arg-type]
        if handler is None:
            continue
        try:
            handler(resource, record, c, today)
        except Exception as exc:  # noqa: BLE001 - one unreadable resource must not sink the profile
            c.note(f"resource could not be read ({type(exc).__name__}): ignored", reference_of(resource))
    return c


def build_profile(record: PatientRecord, today: date | None = None) -> PatientProfile:
    """The patient profile (sections 2 and 3) of one record, every value with its provenance, as of
    `today`, else the record's as-of date (the hook request's), else the current date."""
    today = today or record.as_of or date.today()
    c = collect(record, today)
    p = PatientProfile(patient_id=record.patient_id, as_of=today.isoformat())
    p.notes.extend(record.notes)
    _derive(p, record, c, today)
    return p


def _derive(p: PatientProfile, record: PatientRecord, c: Collected, today: date) -> None:
    p.age = _age(record, today)
    _disease(p, c)
    grading = pathology.grade_specimens(c.specimens)
    for message, ref in grading.notes:
        p.notes.append(DataQualityNote(message, ref, "grade"))
    p.ki67_percent, p.mitotic_count = grading.ki67, grading.mitoses
    p.ki67_history = pathology.history(c.specimens, "ki67")
    p.mitotic_history = pathology.history(c.specimens, "mitoses")
    evidence = _differentiation_evidence(p, c)
    p.differentiation = pathology.differentiation_fact(evidence, grading, p.nen_status != "none")
    p.who_grade = pathology.who_grade_fact(p.differentiation, grading)
    p.ki67_band = pathology.ki67_band_fact(p.ki67_percent)

    p.sstr_status, p.sstr_modality, p.sstr_studies = imaging.sstr_status(c.sstr)

    p.therapies = medications.exposures(c.events, today)
    p.unknown_medications = tuple(c.unknown_medications)
    p.line_of_therapy = medications.line_of_therapy(p.therapies)

    p.labs = {name: labs.newest_first(labs.read_newest(resources, name)) for name, resources in c.labs.items()}
    for results in p.labs.values():
        for r in results:
            if r.problem:
                p.notes.append(DataQualityNote(f"{r.source.reference}: {r.name} {r.problem}; not used.",
                                               r.source.reference, f"labs.{r.name}"))
    if any(r.interpretation in ("H", "HH") for r in p.labs.get("calcium", ())):
        p.men1_features = tuple(sorted({*p.men1_features, "hypercalcemia"}))
    p.lowest_recent_glucose, p.glucose_low, glucose_notes = glucose.glucose_facts(p.labs.get("glucose", ()), today)
    for message, ref in glucose_notes:
        p.notes.append(DataQualityNote(message, ref, "glucose_low"))
    p.renal_function = labs.renal_fact(p.labs.get("crcl", ()), p.labs.get("egfr", ()), today)
    p.performance_kps, p.performance_ecog = labs.performance_facts(c.performance, today)
    for r in c.performance:
        if r.note:
            p.notes.append(DataQualityNote(r.note, reference_of(r.resource), "performance_kps"))

    status = disease.latest_fact(c.findings.get("disease_status", []))
    p.disease_status_history = disease.history(c.findings.get("disease_status", []))
    remission = status
    if status.value == "remission":
        status = Fact(None, None, status.date, status.sources, (*status.notes, "in remission"))
    p.disease_status = status
    p.tumor_burden = disease.latest_fact(c.findings.get("tumor_burden", []))
    p.resectable = disease.latest_fact(c.findings.get("resectable", []))
    p.hepatic_predominant = disease.latest_fact(c.findings.get("hepatic_predominant", []))
    p.symptoms_observed = disease.latest_fact(c.findings.get("symptomatic", []))
    p.symptomatic = _symptomatic(p.symptoms_observed, p.functional_syndrome)

    mets = [h.source for h in _confirmed(c) if h.metastases]
    resections = [r for r in c.resections if disease.resection_counts(r, p.primary_site.value)]
    p.stage = disease.stage_fact(mets, resections, remission)
    if p.stage.value == "resected" and mets:
        p.metastatic = Fact(False, None, p.stage.date, p.stage.sources, p.stage.notes)
        p.liver_metastases = Fact(False, None, p.stage.date, p.stage.sources, p.stage.notes)

    p.prrt_eligibility = eligibility.prrt_eligibility(p.sstr_status, p.sstr_modality, p.renal_function,
                                                      p.performance_kps, p.performance_ecog,
                                                      p.labs.get("platelets", ()), today)
    p.prrt_response_durable = eligibility.prrt_durable(p.therapy("prrt"), p.disease_status)
    _comorbidities(p, c)
    p.draft_orders = _draft_orders(record, p)
    p.notes.extend(c.notes)
    _dedupe_sources(p)


def _dedupe_sources(p: PatientProfile) -> None:
    """Each Fact lists a resource once (several codes of one Condition give the same Source)."""
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if isinstance(value, Fact) and len(value.sources) > 1:
            setattr(p, f.name, dataclasses.replace(value, sources=tuple(dict.fromkeys(value.sources))))
    p.therapies = tuple(dataclasses.replace(t, sources=tuple(dict.fromkeys(t.sources))) for t in p.therapies)
    p.comorbidities = {k: dataclasses.replace(v, sources=tuple(dict.fromkeys(v.sources)))
                       for k, v in p.comorbidities.items()}


def _age(record: PatientRecord, today: date) -> Fact[int]:
    patient = record.patient
    if not isinstance(patient, dict):
        return Fact(None, notes=("no Patient resource",))
    raw = patient.get("birthDate")
    birth = raw if isinstance(raw, str) else None
    born = parse_date(birth)
    if born is None:
        return Fact(None, notes=("no readable birthDate",))
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    notes = ("partial birthDate: age approximate",) if birth and len(birth) < 10 else ()
    return Fact(years, "years", birth, (Source(reference_of(patient), birth, "birthDate"),), notes)


def _confirmed(c: Collected) -> list[cond.ConditionHit]:
    """The Condition hits that may set profile fields: not provisional, differential or unconfirmed."""
    return [h for h in c.conditions if h.suspected is None]


def _disease(p: PatientProfile, c: Collected) -> None:
    """NEN status, scope, primary site, syndromes, metastases, MEN1 from the confirmed Condition hits.

    Section 1: scope and primary site come from PRIMARY NEN Conditions only, whatever their clinical
    status (a primary in remission still names the site of a recurrence); a secondary-only code (C7B.*)
    never sets scope or site. Without any primary NEN Condition, a secondary NEN means "unknown primary".
    A primary whose Conditions are all history is current disease again when a metastasis is current.
    """
    confirmed = _confirmed(c)
    _suspected(p, c)
    primaries = [h for h in confirmed if h.nen and h.primary]
    in_scope = [h for h in primaries if not h.out_of_scope]
    relevant = (in_scope or primaries) if primaries else [h for h in confirmed if h.nen]
    p.in_scope = bool(in_scope) if primaries else bool(relevant)
    current_metastasis = any(h.metastases and h.current for h in confirmed)
    if any(h.current for h in relevant) or (relevant and current_metastasis):
        p.nen_status = "active"
        if relevant and not any(h.current for h in relevant):
            p.notes.append(DataQualityNote("primary NEN recorded as history, with a current metastasis: "
                                           "read as current disease (recurrence)", relevant[0].source.reference,
                                           "primary_site"))
    elif relevant:
        p.nen_status = "history"
    focus = [h for h in relevant if h.current] or relevant
    for h in c.conditions:
        if h.nen:
            for n in h.notes:
                p.notes.append(DataQualityNote(n, h.source.reference, "primary_site"))
    sited = sorted((h for h in focus if h.site and h.site != "unknown"), key=lambda h: h.day or date.min, reverse=True)
    if not sited and focus is not relevant:  # current primaries say no site: a history primary may
        sited = sorted((h for h in relevant if h.site and h.site != "unknown"), key=lambda h: h.day or date.min,
                       reverse=True)
    if sited:
        chosen = sited[0]
        groups = {cond.site_group(h.site) for h in sited}
        notes = (f"conflicting sites ({', '.join(sorted({str(h.site) for h in sited}))}): the latest is used",) \
            if len(groups) > 1 else ()
        if not chosen.current:
            notes += ("site from a primary NEN recorded as history (remission/resolved)",)
        p.primary_site = Fact(chosen.site, None, chosen.source.date, tuple(h.source for h in sited), notes)
        p.site_group = cond.site_group(chosen.site)  # type: ignore[assignment]
    elif focus:
        why = "primary site not coded" if primaries else "no primary NEN Condition: unknown primary"
        p.primary_site = Fact(None, None, None, tuple(h.source for h in focus), (why,))
    if primaries and not in_scope:
        p.site_group = "out-of-scope"
    p.multifocal = Fact(True, None, None, tuple(h.source for h in in_scope if h.multifocal)) \
        if any(h.multifocal for h in in_scope) else Fact(None)
    _syndromes(p, c)
    _metastases(p, c)
    diagnosed = [h.source for h in confirmed if h.men1]
    p.men1 = Fact(True, None, diagnosed[0].date, tuple(diagnosed)) if diagnosed \
        else Fact(None, notes=("no MEN1 diagnosis coded",))
    if c.men1_family:
        p.men1_family_history = Fact(True, None, c.men1_family[0][0].date, tuple(s for s, _ in c.men1_family))
    p.men1_status = men1.men1_status(tuple(diagnosed), c.men1_family, c.germline)
    p.men1_features = tuple(sorted({f for h in confirmed for f in h.features}))


def _suspected(p: PatientProfile, c: Collected) -> None:
    """Every suspected diagnosis, by what it would have said (section 2; invariant 8)."""
    found: list[SuspectedDiagnosis] = []
    for h in c.conditions:
        if h.suspected is None:
            continue
        said: list[str] = []
        if h.nen and h.primary:
            said.append("nen")
        if any(d == "NEC" for d, _why in h.differentiation):
            said.append("nec")
        said += [syndrome for syndrome, _requires, _why in h.syndromes]
        if h.men1:
            said.append("men1")
        if h.metastases:
            said.append("metastasis")
        for diagnosis in dict.fromkeys(said):
            found.append(SuspectedDiagnosis(diagnosis, h.suspected, h.source))  # type: ignore[arg-type]
        p.notes.append(DataQualityNote(f"{h.source.label or 'diagnosis'} is {h.suspected}: not used as a "
                                       "confirmed diagnosis", h.source.reference, "suspected"))
    p.suspected = tuple(found)


def _syndromes(p: PatientProfile, c: Collected) -> None:
    confirmed = _confirmed(c)
    pnet = p.site_group == "pancreas" or any(cond.site_group(h.site) == "pancreas" for h in confirmed if h.nen)
    found: dict[str, list[Source]] = {}
    for h in confirmed:
        for syndrome, requires, _why in h.syndromes:
            if requires == "pnet" and not pnet:
                p.notes.append(DataQualityNote(f"{syndrome} code without a pancreatic NEN: not counted",
                                               h.source.reference, "functional_syndrome"))
                continue
            if requires == "nen" and p.nen_status == "none":
                continue
            found.setdefault(syndrome, []).append(h.source)
    for syndrome, source in c.morphology_syndromes:
        found.setdefault(syndrome, []).append(source)
    ordered = tuple(s for s in SYNDROME_PRIORITY if s in found)
    p.functional_syndromes = ordered
    if ordered:
        first = ordered[0]
        notes = (f"also coded: {', '.join(ordered[1:])}",) if len(ordered) > 1 else ()
        p.functional_syndrome = Fact(first, None, found[first][0].date, tuple(found[first]), notes)
    elif p.nen_status != "none":
        p.functional_syndrome = Fact("nonfunctional", notes=("no functional syndrome coded",))
    else:
        p.functional_syndrome = Fact("unknown")


def _metastases(p: PatientProfile, c: Collected) -> None:
    hits = [h for h in _confirmed(c) if h.metastases]
    if not hits:
        return
    sites = sorted({s for h in hits for s in h.metastases})
    if "other" in sites and len(sites) > 1:
        sites.remove("other")
    notes = tuple(f"{h.source.reference} recorded as resolved/in remission" for h in hits if not h.current)
    latest = max(hits, key=lambda h: h.day or date.min)
    p.metastatic = Fact(True, None, latest.source.date, tuple(h.source for h in hits), notes)
    p.metastatic_sites = tuple(sites)
    liver = [h for h in hits if "liver" in h.metastases]
    p.liver_metastases = Fact(True, None, liver[0].source.date, tuple(h.source for h in liver)) if liver else Fact(None)


def _differentiation_evidence(p: PatientProfile, c: Collected) -> list[pathology.Evidence]:
    confirmed = [h for h in _confirmed(c) if h.nen and not h.out_of_scope]
    nen = [h for h in confirmed if h.primary] or confirmed
    focus = [h for h in nen if h.current] or nen
    evidence = [pathology.Evidence(d, why, h.source) for h in focus for d, why in h.differentiation]  # type: ignore[arg-type]
    evidence += c.morphology
    if p.functional_syndrome.value not in (None, "nonfunctional", "unknown"):
        evidence.append(pathology.Evidence("NET", f"functioning {p.functional_syndrome.value} implies a NET",
                                           p.functional_syndrome.sources[0]))
    return evidence


def _symptomatic(explicit: Fact[Any], syndrome: Fact[FunctionalSyndrome]) -> Fact[bool]:
    """Functional syndrome counts as symptomatic (section 2)."""
    if syndrome.value in (None, "nonfunctional", "unknown"):
        return explicit
    notes = [f"functional syndrome ({syndrome.value}) counts as symptomatic"]
    if explicit.value is False:
        notes.append(f"recorded as not symptomatic on {explicit.date}")
    return Fact(True, None, syndrome.date, syndrome.sources + explicit.sources, tuple(notes))


def _comorbidities(p: PatientProfile, c: Collected) -> None:
    p.comorbidities = cond.comorbidity_facts(_confirmed(c))
    hba1c = p.latest_lab("hba1c")
    if p.comorbidities["diabetes"].value is None and hba1c and hba1c.value is not None and hba1c.value >= 6.5 \
            and (hba1c.unit or "%").strip() in ("%", "{percent}"):
        p.comorbidities["diabetes"] = Fact(True, "%", hba1c.date, (hba1c.source,), ("HbA1c >=6.5 %: diabetes",))


def _draft_orders(record: PatientRecord, p: PatientProfile) -> tuple[DraftOrder, ...]:
    out: list[DraftOrder] = []
    for raw in record.draft_orders:
        try:
            order = medications.classify_draft(record, raw)
        except Exception as exc:  # noqa: BLE001 - a hostile draft still must not crash order-sign
            message = f"draft order could not be read ({type(exc).__name__})"
            p.notes.append(DataQualityNote(message, None, "draft_orders"))
            continue
        if order is None:
            p.notes.append(DataQualityNote("draft order is not a FHIR resource: ignored", None, "draft_orders"))
        else:
            out.append(order)
    return tuple(out)
