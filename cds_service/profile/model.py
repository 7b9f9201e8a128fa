"""The NET patient profile: the decision model's inputs (sections 2 and 3), each with provenance.

This is the contract between the profile builder (FHIR -> profile) and the rules (profile -> cards).
Rules read only this; they never see FHIR JSON. Every value carries the FHIR references and dates
it came from and any data-quality notes, so a card can show each fact with its date and source
(decision model, safety invariant 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

# Vocabularies of the profile (decision model sections 2-3). Plain strings keep templates simple.
SiteGroup = Literal["pancreas", "gastrointestinal", "unknown", "out-of-scope"]
Differentiation = Literal["NET", "NEC"]
WhoGrade = Literal["G1", "G2", "G3", "high-grade-nec"]
Ki67Band = Literal["G1", "low-G2", "high-G2", "G3"]
SstrStatus = Literal["positive", "negative", "indeterminate", "unknown"]
SstrModality = Literal["sstr-pet", "srs", "ihc"]
FunctionalSyndrome = Literal[
    "carcinoid-syndrome", "gastrinoma", "insulinoma", "glucagonoma", "vipoma", "somatostatinoma",
    "nonfunctional", "unknown",
]
NenStatus = Literal["active", "history", "none"]
Stage = Literal["metastatic", "resected", "unknown"]
DiseaseStatus = Literal["progressing", "stable", "improved", "undetermined"]
LineOfTherapy = Literal["naive", "after-ssa", "after-ssa-prrt", "after-targeted", "after-chemo"]
TherapyClass = Literal[
    "ssa", "prrt", "everolimus", "sunitinib", "cabozantinib", "captem", "capecitabine", "temozolomide",
    "streptozocin", "platinum-etoposide", "telotristat", "ppi", "diazoxide",
]
CriterionResult = Literal["pass", "fail", "unknown"]
Men1Status = Literal["diagnosed", "family-history", "tested-negative", "unknown"]
Verification = Literal["provisional", "differential", "unconfirmed"]


@dataclass(frozen=True)
class Source:
    """One FHIR resource a fact came from."""

    reference: str  # relative reference, e.g. "Observation/ki67-1"
    date: str | None = None  # ISO date/datetime as recorded (effective, onset, recorded, authored)
    label: str = ""  # short human description, e.g. "Ki-67 15 %"


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A profile value with its provenance. `value is None` means unknown."""

    value: T | None = None
    unit: str | None = None
    date: str | None = None
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class DataQualityNote:
    """Something about the input a reader should know: parsed, converted, approximate, rejected."""

    message: str
    reference: str | None = None  # the resource concerned, when there is one
    field: str | None = None  # the profile field concerned, e.g. "ki67_percent"


@dataclass(frozen=True)
class TherapyExposure:
    """One therapy class the patient has had or is on (prior_therapies)."""

    therapy: TherapyClass
    active: bool
    start: str | None = None
    end: str | None = None
    sources: tuple[Source, ...] = ()
    administrations: int = 0  # PRRT: number of administrations recorded
    last_administration: str | None = None  # PRRT: date of the last one
    planned: tuple[str, ...] = ()  # dates of planned (not yet given) doses, e.g. PRRT ServiceRequests
    # Added by the profile builder (issue 3):
    given: bool = True  # False when the class is only planned (e.g. a PRRT ServiceRequest, no dose yet)
    periods: tuple[tuple[str | None, str | None], ...] = ()  # (start, end) of each record, for X-5 windows
    doses_per_day: float | None = None  # active records' stated dosing frequency (P-8-PPI), None when not stated
    # Added for the timeline (issue 17): the dates of the PRRT doses counted in `administrations`, oldest first.
    administration_dates: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabResult:
    """One laboratory value (CgA, gastrin, 5-HIAA, glucose, platelets, HbA1c, calcium, PTH, ...)."""

    name: str  # key from mappings, e.g. "cga", "platelets"
    value: float | None
    unit: str | None
    date: str | None
    source: Source
    reference_range: str | None = None  # e.g. "0-98 ng/mL"
    interpretation: str | None = None  # H, L, N ... as coded
    text: str | None = None  # the value as sent when it was not numeric
    problem: str | None = None  # why a value that was sent could not be read (a data-quality note says so)
    # Added for the timeline (issue 17): the reference range's bounds as numbers, in the range's unit.
    reference_low: float | None = None
    reference_high: float | None = None


@dataclass(frozen=True)
class Criterion:
    """One PRRT eligibility criterion (decision model section 3), evaluated."""

    name: str  # "sstr-positive", "crcl-gt-50", "kps-gt-50", "platelets-ge-75"
    label: str  # "SSTR imaging positive", "CrCl > 50 mL/min", ...
    result: CriterionResult
    value: str | None = None  # shown as text with unit, e.g. "62 mL/min"
    date: str | None = None
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrrtEligibility:
    criteria: tuple[Criterion, ...] = ()

    @property
    def eligible(self) -> bool:
        return bool(self.criteria) and all(c.result == "pass" for c in self.criteria)

    @property
    def failed_or_unknown(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.result != "pass")


@dataclass(frozen=True)
class SstrStudy:
    """One SSTR imaging study or IHC result as read (section 2 sstr_status), for display and audit."""

    modality: SstrModality
    result: Literal["positive", "negative"] | None  # None: study on record, result not readable
    date: str | None
    source: Source
    krenning: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuspectedDiagnosis:
    """A diagnosis recorded as provisional, differential or unconfirmed (section 2, verification status).

    It never sets a profile field by itself; rules that would depend on it turn conditional and name it
    (invariant 8). `diagnosis` is what the Condition would have said if confirmed: "nen", "nec", a
    functional syndrome ("gastrinoma", "insulinoma", ...), "men1" or "metastasis"."""

    diagnosis: str
    verification: Verification
    source: Source


@dataclass(frozen=True)
class DraftOrder:
    """One order from order-sign's context.draftOrders, classified."""

    reference: str  # "MedicationRequest/abc" (or the fullUrl when it has no id)
    resource_type: str  # "MedicationRequest", "ServiceRequest", ...
    therapy: TherapyClass | None  # drug class, None when not one we know
    medication_text: str  # what the order says it is, for display
    long_acting: bool | None = None  # SSA: LAR / depot / autogel / lanreotide
    doses_per_day: float | None = None  # from dosageInstruction timing, None when not stated
    resource: dict = field(default_factory=dict, compare=False, hash=False)  # the draft as sent
    notes: tuple[str, ...] = ()
    # Added for O-SSA-5 (rules): when the order is planned for (occurrence[x], the timing's
    # boundsPeriod.start or first event, else authoredOn), ISO date; None when not stated.
    date: str | None = None


@dataclass
class PatientProfile:
    """Everything the rules may read about one patient."""

    patient_id: str
    age: Fact[int] = field(default_factory=Fact)
    nen_status: NenStatus = "none"  # active disease, history only (remission/resolved), or no NEN
    in_scope: bool = False  # a GEP-NEN (not only lung/thymic NET, pheo/paraganglioma, Merkel)
    primary_site: Fact[str] = field(default_factory=Fact)  # pancreas, stomach, duodenum, ileum, ...
    site_group: SiteGroup = "unknown"
    differentiation: Fact[Differentiation] = field(default_factory=Fact)
    ki67_percent: Fact[float] = field(default_factory=Fact)
    mitotic_count: Fact[float] = field(default_factory=Fact)  # per 2 mm2 (notes say if per 10 HPF)
    who_grade: Fact[WhoGrade] = field(default_factory=Fact)
    ki67_band: Fact[Ki67Band] = field(default_factory=Fact)
    sstr_status: Fact[SstrStatus] = field(default_factory=lambda: Fact("unknown"))
    sstr_modality: SstrModality | None = None
    functional_syndrome: Fact[FunctionalSyndrome] = field(default_factory=lambda: Fact("unknown"))
    multifocal: Fact[bool] = field(default_factory=Fact)
    metastatic: Fact[bool] = field(default_factory=Fact)
    liver_metastases: Fact[bool] = field(default_factory=Fact)
    metastatic_sites: tuple[str, ...] = ()  # liver, bone, lymph-node, peritoneum, other
    stage: Fact[Stage] = field(default_factory=lambda: Fact("unknown"))
    disease_status: Fact[DiseaseStatus] = field(default_factory=Fact)
    tumor_burden: Fact[str] = field(default_factory=Fact)  # "high" | "low"
    symptomatic: Fact[bool] = field(default_factory=Fact)
    resectable: Fact[bool] = field(default_factory=Fact)
    hepatic_predominant: Fact[bool] = field(default_factory=Fact)
    therapies: tuple[TherapyExposure, ...] = ()
    line_of_therapy: Fact[LineOfTherapy] = field(default_factory=Fact)
    comorbidities: dict[str, Fact[bool]] = field(default_factory=dict)  # diabetes, lung, hypertension, ...
    renal_function: Fact[float] = field(default_factory=Fact)  # CrCl mL/min (notes say if eGFR)
    performance_kps: Fact[float] = field(default_factory=Fact)  # Karnofsky (ECOG mapped, noted)
    labs: dict[str, tuple[LabResult, ...]] = field(default_factory=dict)  # newest first (newest 24 per lab)
    men1: Fact[bool] = field(default_factory=Fact)
    men1_features: tuple[str, ...] = ()  # hyperparathyroidism, pituitary adenoma, ...
    prrt_eligibility: PrrtEligibility = field(default_factory=PrrtEligibility)
    prrt_response_durable: Fact[bool] = field(default_factory=Fact)
    draft_orders: tuple[DraftOrder, ...] = ()
    notes: list[DataQualityNote] = field(default_factory=list)
    # Added by the profile builder (issue 3); additive only.
    functional_syndromes: tuple[FunctionalSyndrome, ...] = ()  # every syndrome found (the Fact holds one)
    sstr_studies: tuple[SstrStudy, ...] = ()  # every SSTR study read, newest first
    performance_ecog: Fact[int] = field(default_factory=Fact)  # ECOG as recorded (performance_kps maps it)
    men1_family_history: Fact[bool] = field(default_factory=Fact)  # FamilyMemberHistory with MEN1
    # Decision model v2 (section 2), added by the profile builder:
    # men1 row: diagnosed (confirmed Condition or pathogenic germline variant), family-history (a
    # first-degree relative with MEN1), tested-negative (germline test without a pathogenic variant), unknown.
    men1_status: Fact[Men1Status] = field(default_factory=lambda: Fact("unknown"))
    # glucose_low row: the lowest glucose within 30 days, in mg/dL (mmol/L converted, noted), with its
    # source; glucose_low is True when it is < 54 mg/dL (3.0 mmol/L, ADA level 2), False when glucose was
    # measured in those 30 days and none was that low, unknown when none was measured.
    lowest_recent_glucose: Fact[float] = field(default_factory=Fact)
    glucose_low: Fact[bool] = field(default_factory=Fact)
    # Verification status (section 2): every provisional / differential / unconfirmed diagnosis read.
    suspected: tuple[SuspectedDiagnosis, ...] = ()
    # Medication records whose drug cannot be known (unresolvable medicationReference, no medication):
    # never silent (section 2); therapy cards list them under Missing data.
    unknown_medications: tuple[Source, ...] = ()

    @property
    def has_sstr_imaging(self) -> bool:
        """An SSTR-PET or SRS study is on record (IHC is not imaging), whatever its result."""
        return any(s.modality in ("sstr-pet", "srs") for s in self.sstr_studies)

    @property
    def sstr_unreadable(self) -> SstrStudy | None:
        """X-2b: the SSTR imaging study that decides the status is on record but its result cannot be read."""
        if self.sstr_status.value != "unknown" or self.sstr_modality not in ("sstr-pet", "srs"):
            return None
        return next((s for s in self.sstr_studies if s.modality == self.sstr_modality and s.result is None), None)
    # Added for the rules (GI-10): the latest explicit symptom finding (Observation), before a
    # functional syndrome makes `symptomatic` true; unknown when no symptom observation exists.
    symptoms_observed: Fact[bool] = field(default_factory=Fact)
    # Added for the rules: the date the profile describes (build_profile's `today`), ISO date.
    # Rules that look at intervals (F-3 overdue labs, O-SSA-5 washout, O-PPI-2 12 months) use it;
    # None means the current date.
    as_of: str | None = None
    # Added for the timeline (issue 17): every readable Ki-67 and mitotic count (not only the grading
    # window's highest) and every readable disease-status assessment, oldest first, each with its source.
    ki67_history: tuple[Fact[float], ...] = ()
    mitotic_history: tuple[Fact[float], ...] = ()
    disease_status_history: tuple[Fact[str], ...] = ()

    def therapy(self, therapy: TherapyClass) -> TherapyExposure | None:
        """The exposure to one therapy class, if any."""
        return next((t for t in self.therapies if t.therapy == therapy), None)

    def latest_lab(self, name: str) -> LabResult | None:
        values = self.labs.get(name, ())
        return values[0] if values else None
