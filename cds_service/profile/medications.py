"""Medications and PRRT -> prior therapies, line of therapy, and draft-order classification.

net-decision-model.md section 2 row prior_therapies and section 3 (line of therapy); section 5 for
draft orders. Classes match by RxNorm code, ATC code or class prefix, then name text (generic or brand)
(mappings/medications.yaml). medicationReference is resolved (contained or in the record).
Status handling: entered-in-error, cancelled, not-taken, not-done and draft are never exposures; an
`intended` statement, a plan/proposal request and a ServiceRequest are planned doses; active vs completed
decides `active`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.fhir.record import PatientRecord, resolve_medication
from cds_service.profile.codes import codings, index
from cds_service.profile.fhirread import (
    as_dict,
    as_list,
    as_str,
    display_of,
    first_date,
    parse_date,
    reference_of,
    source_of,
    status_code,
    text_of,
    to_float,
)
from cds_service.profile.imaging import is_diagnostic_imaging
from cds_service.profile.model import DraftOrder, Fact, LineOfTherapy, Source, TherapyClass, TherapyExposure

NEVER = frozenset({"entered-in-error", "cancelled", "not-taken", "not-done", "draft", "revoked"})
ACTIVE = frozenset({"active", "in-progress"})
PLANNED_INTENTS = frozenset({"plan", "proposal", "directive"})
NOT_ANTITUMOR = frozenset({"ppi", "telotristat", "diazoxide"})
TARGETED = frozenset({"everolimus", "sunitinib", "cabozantinib"})
CHEMO = frozenset({"captem", "capecitabine", "temozolomide", "streptozocin", "platinum-etoposide"})
CAPTEM_DAYS = 30
# Which class a multi-class order is shown as (draft orders carry one class).
_PRIORITY: tuple[TherapyClass, ...] = (
    "prrt", "ssa", "everolimus", "sunitinib", "cabozantinib", "captem", "capecitabine", "temozolomide",
    "streptozocin", "platinum-etoposide", "telotristat", "diazoxide", "ppi",
)
_TIMING_CODES = {"QD": 1.0, "AM": 1.0, "PM": 1.0, "BED": 1.0, "BID": 2.0, "TID": 3.0, "QID": 4.0, "QOD": 0.5,
                 "Q4H": 6.0, "Q6H": 4.0, "Q8H": 3.0, "Q12H": 2.0, "Q24H": 1.0, "WK": 1 / 7, "MO": 1 / 30}
_UNIT_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0, "a": 365.0}


@dataclass
class TherapyEvent:
    """One medication/procedure record for one therapy class."""

    therapy: TherapyClass
    source: Source
    given: bool  # an exposure (not only planned)
    active: bool
    start: str | None
    end: str | None
    administration: bool = False  # a single dose given (MedicationAdministration, PRRT Procedure)
    planned: str | None = None  # date of a planned dose
    notes: list[str] = field(default_factory=list)
    doses_per_day: float | None = None  # from the record's structured timing, None when not stated


def medication_classes(record: PatientRecord, resource: dict[str, Any],
                       concept_field: str = "medicationCodeableConcept") -> tuple[set[str], str, list[str]]:
    """(therapy classes, display text, notes) for a medication resource or a ServiceRequest code."""
    notes: list[str] = []
    concepts: list[Any] = [resource.get(concept_field)]
    extra_text: list[str] = []
    if concept_field == "medicationCodeableConcept" and "medicationReference" in resource:
        ref = as_dict(resource.get("medicationReference"))
        extra_text.append(as_str(ref.get("display")) or "")
        med = resolve_medication(record, resource)
        if med is None:
            notes.append(f"medicationReference {as_str(ref.get('reference'))} could not be resolved")
        else:
            concepts.append(med.get("code"))
            for ing in as_list(med.get("ingredient")):
                ing = as_dict(ing)
                concepts.append(ing.get("itemCodeableConcept"))
                item_ref = as_dict(ing.get("itemReference"))
                extra_text.append(as_str(item_ref.get("display")) or "")
            extra_text.append(text_of(med.get("form")))
    meds = index("medications")
    codes = [c for cc in concepts for c in codings(cc)]
    classes = {str(e.get("therapy")) for e in meds.match(codes, "medication")}
    text = " | ".join(filter(None, [text_of(*concepts), *extra_text]))
    if not classes:
        classes = {str(r.get("therapy")) for r in meds.texts("medication", text)}
        if classes:
            notes.append("medication class matched by name")
    if concept_field == "code" and not classes and index("medications").text("prrt_procedure", text) \
            and not is_diagnostic_imaging(text):  # "Ga-68 DOTATATE PET for PRRT eligibility" is imaging
        classes = {"prrt"}
    if "prrt" in classes and not codes_say_prrt(meds, codes) and is_diagnostic_imaging(text):
        classes.discard("prrt")
        notes.append("names PRRT but is diagnostic SSTR imaging: not a PRRT record")
    display = display_of(*concepts, *extra_text) or (codes[0][2] or codes[0][1] if codes else "")
    return classes, display, notes


def codes_say_prrt(meds: Any, codes: list[tuple[str | None, str, str | None]]) -> bool:
    """A PRRT drug or procedure code (RxNorm, HCPCS A9513, ATC): a therapy record whatever its text."""
    return any(e.get("therapy") == "prrt" for e in meds.match(codes, "medication")) or \
        meds.first(codes, "prrt_procedure") is not None


def _period(resource: dict[str, Any], *fields: str) -> tuple[str | None, str | None]:
    for f in fields:
        p = as_dict(resource.get(f))
        if p:
            start = as_str(p.get("start"))
            end = as_str(p.get("end"))
            if parse_date(start) or parse_date(end):
                return start, end
    return None, None


def _timing_bounds(request: dict[str, Any]) -> tuple[str | None, str | None, list[str]]:
    """(start, end, event dates) from dosageInstruction timing."""
    start = end = None
    events: list[str] = []
    for dose in as_list(request.get("dosageInstruction")):
        timing = as_dict(as_dict(dose).get("timing"))
        events += [e for e in as_list(timing.get("event")) if isinstance(e, str) and parse_date(e)]
        bounds = as_dict(as_dict(timing.get("repeat")).get("boundsPeriod"))
        start = start or as_str(bounds.get("start"))
        end = end or as_str(bounds.get("end"))
    return start, end, events


def unreadable_medication_note(record: PatientRecord, resource: dict[str, Any]) -> str | None:
    """Section 2 (v2): a medication record whose drug cannot be known (an unresolvable medicationReference,
    or no medication at all) is never dropped silently, even without display text: a therapy may be missing."""
    if status_code(resource.get("status")) in NEVER:
        return None
    if "medicationReference" in resource:
        if resolve_medication(record, resource) is not None:
            return None
        ref = as_dict(resource.get("medicationReference"))
        shown = as_str(ref.get("display"))
        return (f"medicationReference {as_str(ref.get('reference')) or '(no reference)'}"
                f"{f' ({shown})' if shown else ''} could not be resolved: the drug is unknown, so a therapy "
                "may be missing from the profile")
    if "medicationCodeableConcept" not in resource:
        return "medication record without a medication: the drug is unknown, so a therapy may be missing"
    return None


def read_medication(record: PatientRecord, resource: dict[str, Any], today: date) -> list[TherapyEvent]:
    """TherapyEvents from a MedicationStatement, MedicationRequest or MedicationAdministration.

    All three are read alike (section 2, v2): a long-acting SSA dose (given in clinic, or an order with a
    dosing interval) is active from the dose until its interval has passed, whichever resource records it.
    """
    rtype = resource.get("resourceType")
    status = status_code(resource.get("status"))
    if status in NEVER:
        return []
    classes, display, notes = medication_classes(record, resource)
    if not classes:
        return []
    source = source_of(resource, display[:80])
    if rtype == "MedicationRequest":
        intent = status_code(resource.get("intent"))
        t_start, t_end, events = _timing_bounds(resource)
        v_start, v_end = _period(as_dict(resource.get("dispenseRequest")), "validityPeriod")
        start = t_start or v_start or as_str(resource.get("authoredOn"))
        end = t_end or v_end
        planned_date = events[0] if events else (t_start or v_start or as_str(resource.get("authoredOn")))
        is_planned = intent in PLANNED_INTENTS or (
            "prrt" in classes and status == "active" and (parse_date(planned_date) or date.min) >= today)
        if is_planned:
            return [TherapyEvent(c, source, False, False, None, None, planned=planned_date, notes=list(notes))
                    for c in classes]  # type: ignore[arg-type]
        active = status == "active"
    elif rtype == "MedicationStatement":
        start, end = _period(resource, "effectivePeriod")
        start = start or first_date(resource, "effectiveDateTime", "dateAsserted")
        if status == "intended":
            return [TherapyEvent(c, source, False, False, None, None, planned=start, notes=list(notes))
                    for c in classes]  # type: ignore[arg-type]
        active = status == "active"
    else:  # MedicationAdministration
        start, end = _period(resource, "effectivePeriod")
        start = start or first_date(resource, "effectiveDateTime", "occurenceDateTime")
        active = status == "in-progress"
        if status in (None, "unknown"):
            notes.append(f"administration status {status or 'missing'}: read as given")
    if status in (None, "unknown", "on-hold") and rtype != "MedicationAdministration":
        notes.append(f"status {status or 'missing'}: counted as an exposure, not as active")
    if active and end and (parse_date(end) or date.max) < today:
        active = False
        notes.append(f"status active but ended {end}")
    if "ssa" in classes and not active and status not in ("stopped", "on-hold") \
            and _long_acting(record, resource, display):
        depot = _depot_active(record, resource, rtype, start, end, today)
        if depot is not None:
            active, end, note = depot
            notes.append(note)
    doses = doses_per_day(resource)[0] if rtype != "MedicationAdministration" else None
    return [TherapyEvent(c, source, True, active, start, end, administration=rtype == "MedicationAdministration",
                         notes=list(notes), doses_per_day=doses) for c in classes]  # type: ignore[arg-type]


DEPOT_DEFAULT_DAYS = 28
DEPOT_MAX_DAYS = 56


def _depot_active(record: PatientRecord, resource: dict[str, Any], rtype: Any, start: str | None,
                  end: str | None, today: date) -> tuple[bool, str | None, str] | None:
    """(active, end, note) for one long-acting SSA dose: active from the dose until its interval has passed
    (28 days when none is recorded, the recorded interval up to 56 days); None when it is not a dose."""
    if rtype == "MedicationRequest":
        _, _, events = _timing_bounds(resource)
        dose = max(events, key=lambda d: parse_date(d) or date.min) if events else start
    elif end and rtype == "MedicationStatement":
        return None  # a statement with an end date says when it ended
    else:
        dose = start
    given = parse_date(dose)
    if given is None:
        return None
    interval = _interval_days(record, resource)
    days = round(min(interval or DEPOT_DEFAULT_DAYS, DEPOT_MAX_DAYS))
    until = date.fromordinal(given.toordinal() + days)
    why = f"{days}-day interval" + ("" if interval else " (none recorded: 28 days)")
    if given <= today <= until:
        return True, None, f"long-acting SSA dose {dose}: active until {until.isoformat()} ({why})"
    return False, until.isoformat(), f"long-acting SSA dose {dose}: interval passed on {until.isoformat()} ({why})"


def _interval_days(record: PatientRecord, resource: dict[str, Any]) -> float | None:
    """Days between doses from the record's own timing, or from the request an administration fulfils."""
    sources = [resource]
    request = as_str(as_dict(resource.get("request")).get("reference"))
    if request and isinstance(record.get(request), dict):
        sources.append(record.get(request))  # type: ignore[arg-type]
    for r in sources:
        for dose in as_list(r.get("dosageInstruction")) + as_list(r.get("dosage")):
            repeat = as_dict(as_dict(as_dict(dose).get("timing")).get("repeat"))
            period, _ = to_float(repeat.get("period"))
            freq, _ = to_float(repeat.get("frequency"))
            unit = as_str(repeat.get("periodUnit"))
            if period and unit in _UNIT_DAYS:
                days = period * _UNIT_DAYS[unit] / (freq or 1.0)
                if days >= 7:
                    return days
    return None


def read_prrt_procedure(record: PatientRecord, resource: dict[str, Any]) -> TherapyEvent | None:
    """A Procedure that is a PRRT administration (text "PRRT", Lutathera, HCPCS A9513)."""
    status = status_code(resource.get("status"))
    if status in NEVER:
        return None
    meds = index("medications")
    text = text_of(resource.get("code"))
    if meds.first_of(resource.get("code"), "prrt_procedure") is None and (
            meds.text("prrt_procedure", text) is None or is_diagnostic_imaging(text)):
        return None  # not PRRT, or SSTR imaging that names PRRT (e.g. "PET for PRRT eligibility")
    start, end = _period(resource, "performedPeriod")
    when = start or first_date(resource, "performedDateTime", "occurrenceDateTime")
    source = source_of(resource, "PRRT administration", when)
    if status == "preparation":
        return TherapyEvent("prrt", source, False, False, None, None, planned=when)
    notes = [] if status in ("completed", "in-progress", "stopped") else [f"procedure status {status or 'missing'}"]
    return TherapyEvent("prrt", source, True, status == "in-progress", when, end or when, administration=True,
                        notes=notes)


def read_service_request(record: PatientRecord, resource: dict[str, Any]) -> TherapyEvent | None:
    """A PRRT ServiceRequest in the record: a planned dose with its date (O-SSA-5)."""
    status = status_code(resource.get("status"))
    if status in NEVER or status == "completed":
        return None
    classes, display, _ = medication_classes(record, resource, "code")
    if "prrt" not in classes:
        return None
    when = first_date(resource, "occurrenceDateTime", "occurrencePeriod.start", "authoredOn")
    return TherapyEvent("prrt", source_of(resource, display[:80] or "PRRT planned", when), False, False, None, None,
                        planned=when)


def exposures(events: list[TherapyEvent], today: date) -> tuple[TherapyExposure, ...]:
    """One TherapyExposure per class (CAPTEM derived from capecitabine + temozolomide)."""
    by_class: dict[str, list[TherapyEvent]] = {}
    for e in events:
        by_class.setdefault(e.therapy, []).append(e)
    both = "capecitabine" in by_class and "temozolomide" in by_class and "captem" not in by_class
    if both and _overlap(by_class["capecitabine"], by_class["temozolomide"]):
        by_class["captem"] = [TherapyEvent("captem", e.source, e.given, e.active, e.start, e.end,
                                           notes=["CAPTEM: capecitabine and temozolomide together"])
                              for e in by_class["capecitabine"] + by_class["temozolomide"] if e.given]
    out: list[TherapyExposure] = []
    for therapy in _PRIORITY:
        evs = by_class.get(therapy)
        if evs:
            out.append(_exposure(therapy, evs, today))
    return tuple(out)


def _overlap(a: list[TherapyEvent], b: list[TherapyEvent]) -> bool:
    starts_a = [parse_date(e.start) for e in a if e.given]
    starts_b = [parse_date(e.start) for e in b if e.given]
    if not starts_a or not starts_b:
        return False
    if None in starts_a or None in starts_b:
        return True  # undated: assume given together (both on record)
    return any(abs((x - y).days) <= CAPTEM_DAYS for x in starts_a for y in starts_b)  # type: ignore[operator]


def _exposure(therapy: TherapyClass, events: list[TherapyEvent], today: date) -> TherapyExposure:
    given = [e for e in events if e.given]
    starts = sorted((e.start for e in given if parse_date(e.start)), key=parse_date)  # type: ignore[arg-type]
    ends = sorted((e.end for e in given if parse_date(e.end)), key=parse_date)  # type: ignore[arg-type]
    active = any(e.active for e in given)
    end = None if active or not ends else ends[-1]
    planned = sorted({e.planned for e in events if not e.given and e.planned
                      and (parse_date(e.planned) or date.min) >= today}, key=parse_date)  # type: ignore[arg-type]
    admin_days = sorted({parse_date(e.start) for e in given if e.administration and parse_date(e.start)})
    if therapy == "prrt" and not admin_days:
        # No administration records: completed statements/orders stand in for doses (one per day);
        # an active order is not a dose given.
        admin_days = sorted({parse_date(e.start) for e in given if not e.active and parse_date(e.start)})
    administrations = len(admin_days) if therapy == "prrt" else 0
    last = admin_days[-1].isoformat() if therapy == "prrt" and admin_days else None
    periods = tuple((e.start, e.end) for e in given)
    sources = tuple(e.source for e in events)
    dates = tuple(d.isoformat() for d in admin_days) if therapy == "prrt" else ()  # type: ignore[union-attr]
    # The active records' dosing: the highest stated frequency (a BID record means the patient is on BID).
    doses = max((e.doses_per_day for e in given if e.active and e.doses_per_day is not None), default=None)
    return TherapyExposure(therapy, active, starts[0] if starts else None, end, sources, administrations, last,
                           tuple(planned), given=bool(given), periods=periods,  # type: ignore[arg-type]
                           doses_per_day=doses, administration_dates=dates)


def line_of_therapy(therapies: tuple[TherapyExposure, ...]) -> Fact[LineOfTherapy]:
    """naive / after-ssa / after-ssa-prrt / after-targeted / after-chemo (section 3).

    With both targeted and chemotherapy on record, the class started most recently decides (unknown
    start dates count as oldest); PRRT without SSA counts as after-ssa-prrt (PRRT is given with SSA).
    """
    given = [t for t in therapies if t.given and t.therapy not in NOT_ANTITUMOR]
    sources = tuple(s for t in given for s in t.sources)
    if not given:
        return Fact("naive", None, None, (), ("no antitumor therapy on record",))
    classes = {t.therapy for t in given}
    latest_start = {t.therapy: parse_date(t.start) or date.min for t in given}
    targeted = max((latest_start[c] for c in classes & TARGETED), default=None)
    chemo = max((latest_start[c] for c in classes & CHEMO), default=None)
    notes: list[str] = []
    line: LineOfTherapy
    if targeted is not None and chemo is not None:
        line = "after-targeted" if targeted > chemo else "after-chemo"
        notes.append("targeted therapy and chemotherapy on record: the most recently started decides")
    elif chemo is not None:
        line = "after-chemo"
    elif targeted is not None:
        line = "after-targeted"
    elif "prrt" in classes:
        line = "after-ssa-prrt"
        if "ssa" not in classes:
            notes.append("PRRT without a recorded SSA")
    else:
        line = "after-ssa"
    dated = [t.start for t in given if parse_date(t.start)]
    when = max(dated, key=parse_date) if dated else None  # type: ignore[arg-type]
    return Fact(line, None, when, sources, tuple(notes))


# ----------------------------------------------------------------------------------- draft orders


def classify_draft(record: PatientRecord, raw: Any) -> DraftOrder | None:
    """A draft order (order-sign context.draftOrders), classified tolerantly; None if not a resource."""
    resource = as_dict(raw)
    if "resource" in resource and isinstance(resource["resource"], dict):
        resource = resource["resource"]
    rtype = as_str(resource.get("resourceType"))
    if rtype is None:
        return None
    notes: list[str] = []
    field_name = "code" if rtype in ("ServiceRequest", "Procedure") else "medicationCodeableConcept"
    classes, display, cnotes = medication_classes(record, resource, field_name)
    notes += cnotes
    therapy = next((c for c in _PRIORITY if c in classes), None)
    if len(classes) > 1:
        notes.append(f"several classes in one order ({', '.join(sorted(classes))}): shown as {therapy}")
    doses, dnotes = doses_per_day(resource)
    notes += dnotes
    long_acting = _long_acting(record, resource, display) if therapy == "ssa" else None
    rid = as_str(resource.get("id"))
    ref = reference_of(resource) if rid else (as_str(as_dict(raw).get("fullUrl")) or reference_of(resource))
    return DraftOrder(ref, rtype, therapy, display, long_acting, doses, resource, tuple(notes),  # type: ignore[arg-type]
                      date=_planned_date(resource))


def _planned_date(resource: dict[str, Any]) -> str | None:
    """When the order is planned for: occurrence[x], timing boundsPeriod.start or first event, else authoredOn."""
    when = first_date(resource, "occurrenceDateTime", "occurrencePeriod.start")
    if when:
        return when
    start, _, events = _timing_bounds(resource)
    if parse_date(start):
        return start
    if events:
        return min(events, key=parse_date)  # type: ignore[arg-type,return-value]
    return first_date(resource, "authoredOn")


def _long_acting(record: PatientRecord, resource: dict[str, Any], display: str) -> bool:
    """LAR, depot, autogel, extended release, lanreotide (all depot), a Medication form, or dosed q2wk+."""
    med = resolve_medication(record, resource) or {}
    text = " | ".join([display, text_of(resource.get("medicationCodeableConcept"), med.get("code"), med.get("form")),
                       *(as_str(as_dict(d).get("text")) or "" for d in as_list(resource.get("dosageInstruction"))),
                       as_str(as_dict(resource.get("dosage")).get("text")) or ""])  # MedicationAdministration
    if index("medications").text("ssa_long_acting_text", text):
        return True
    for dose in as_list(resource.get("dosageInstruction")):
        repeat = as_dict(as_dict(as_dict(dose).get("timing")).get("repeat"))
        period, _ = to_float(repeat.get("period"))
        unit = as_str(repeat.get("periodUnit"))
        if period is not None and unit in _UNIT_DAYS and period * _UNIT_DAYS[unit] >= 14:
            return True
    return False


def doses_per_day(resource: dict[str, Any]) -> tuple[float | None, list[str]]:
    """Doses per day from the dosage timing (frequency/period/periodUnit or timing.code BID/QD/TID):
    `dosageInstruction` of a request, `dosage` of a MedicationStatement. Free-text sigs are not read."""
    total = 0.0
    found = False
    notes: list[str] = []
    instructions = as_list(resource.get("dosageInstruction") or resource.get("dosage"))
    for dose in instructions:
        timing = as_dict(as_dict(dose).get("timing"))
        repeat = as_dict(timing.get("repeat"))
        freq, _ = to_float(repeat.get("frequencyMax", repeat.get("frequency")))
        period, _ = to_float(repeat.get("period"))
        unit = as_str(repeat.get("periodUnit"))
        per_day: float | None = None
        if period and unit in _UNIT_DAYS:
            per_day = (freq or 1.0) / (period * _UNIT_DAYS[unit])
        else:
            for c in codings(timing.get("code")):
                if c[1].upper() in _TIMING_CODES:
                    per_day = _TIMING_CODES[c[1].upper()]
                    break
            if per_day is None:
                code_text = (as_str(as_dict(timing.get("code")).get("text")) or "").upper()
                per_day = _TIMING_CODES.get(code_text)
        if per_day is not None:
            total += per_day
            found = True
    if found and len(instructions) > 1:
        notes.append(f"{len(instructions)} dosage instructions: doses per day added up")
    return (round(total, 4) if found else None), notes

