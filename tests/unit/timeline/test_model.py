"""The timeline model says what the profile says: over every sample, and over a built history."""

from __future__ import annotations

import pytest

from cds_service.commands.explain import record_from_bundles
from cds_service.fhir.systems import SCT
from cds_service.profile import build_profile
from cds_service.rules import evaluate, explain
from cds_service.rules.gaps import ppi_active_before
from cds_service.samples import list_samples, sample_set_as_of
from cds_service.timeline.model import MARKERS, build_timeline
from tests.unit.profile import builders as b

SAMPLES = list_samples()


def _timeline_of(record, profile):
    return build_timeline(record, profile, explain(profile, "patient-view"))


@pytest.fixture(scope="module", params=[s.id for s in SAMPLES])
def sample(request):
    s = next(x for x in SAMPLES if x.id == request.param)
    record = record_from_bundles(s.bundle())
    profile = build_profile(record, sample_set_as_of())
    return record, profile, _timeline_of(record, profile)


def test_ki67_and_mitoses_are_the_profiles_history(sample):
    _, profile, t = sample
    assert [p.value for p in t.diagnosis.ki67] == [f.value for f in profile.ki67_history]
    assert [p.value for p in t.diagnosis.mitoses] == [f.value for f in profile.mitotic_history]
    if profile.ki67_percent.known:  # the grading value is one of the values shown, with its date
        assert (profile.ki67_percent.value, profile.ki67_percent.date) in {(p.value, p.date) for p in t.diagnosis.ki67}
    grade = next(f for f in t.diagnosis.facts if f.label == "WHO grade")
    assert (grade.value is None) == (profile.who_grade.value is None)


def test_sstr_studies_match_the_profile(sample):
    _, profile, t = sample
    assert sorted((s.reference, s.result, s.date) for s in t.sstr) == \
        sorted((s.source.reference, s.result, s.date) for s in profile.sstr_studies)
    status = next(f for f in t.diagnosis.facts if f.label == "SSTR status")
    assert status.value.startswith(str(profile.sstr_status.value))


def test_therapy_bars_and_prrt_doses_match_the_profile(sample):
    _, profile, t = sample
    assert {bar.therapy for bar in t.therapies} == {x.therapy for x in profile.therapies if x.given or x.planned}
    for bar in t.therapies:
        exposure = profile.therapy(bar.therapy)
        assert bar.active == exposure.active
        if bar.therapy == "prrt":
            assert len(bar.doses) == exposure.administrations
            assert (bar.doses[-1] if bar.doses else None) == exposure.last_administration
            assert bar.planned == exposure.planned
        elif exposure.given:
            assert bar.periods, f"{bar.therapy} given but drawn without a period"


def test_markers_and_ppi_periods_match_the_profile(sample):
    _, profile, t = sample
    for keys, name in MARKERS:
        values = sorted((r.date, r.value) for k in keys for r in profile.labs.get(k, ()) if r.value is not None)
        series = next((m for m in t.markers if m.label == name), None)
        assert (series is None) == (not values)
        if series is not None:
            assert sorted((p.date, p.value) for p in series.points) == values
            for p in series.points:
                assert p.on_ppi == (ppi_active_before(profile, p.date) if series.ppi_confounded else None)
    ppi = profile.therapy("ppi")
    assert set(t.ppi_periods) == (set(ppi.periods) if ppi and ppi.given else set())


def test_status_events_next_step_rules_and_notes(sample):
    _, profile, t = sample
    assert [(e.date, e.status) for e in t.status_events] == \
        [(f.date, f.value) for f in profile.disease_status_history]
    if profile.disease_status.known:
        assert (profile.disease_status.date, profile.disease_status.value) in {(e.date, e.status)
                                                                               for e in t.status_events}
    cards = [f for f in evaluate(profile, "patient-view") if f.kind == "next-step"]
    assert (t.next_step.rule_id if t.next_step else None) == (cards[0].rule_id if cards else None)
    evaluations = explain(profile, "patient-view")
    assert [(r.rule_id, r.status, r.reason) for r in t.rules] == [(e.rule_id, e.status, e.reason) for e in evaluations]
    assert all(r.reason for r in t.rules)
    assert len(t.notes) == len(profile.notes)


def test_every_sample_has_a_timeline_with_its_dates(sample):
    _, profile, t = sample
    assert t.patient_id == profile.patient_id
    assert t.dates and t.dates[-1].isoformat() >= (profile.as_of or "")


def _history_record():
    """An ileal NET with three biopsies, SSA then four PRRT doses, CgA on and off a PPI, two assessments."""
    return b.record(
        b.ileal_net(onset="2021-03-01"),
        b.ki67(3, when="2021-03-10"), b.ki67(8, when="2023-06-01"), b.ki67(14, when="2025-09-01"),
        b.mitoses(2, when="2021-03-10"),
        b.medication(text="lanreotide 120 mg depot", start="2021-04-01"),
        *[b.procedure("Lutathera PRRT", when=d) for d in ("2024-01-10", "2024-03-06", "2024-05-02", "2024-06-27")],
        b.medication(text="omeprazole 20 mg", start="2022-01-01", end="2022-12-31", status="completed"),
        b.lab("9811-1", 300, "ng/mL", when="2022-06-01", high=98),
        b.lab("9811-1", 150, "ng/mL", when="2025-08-01", high=98),
        b.observation("97509-4", when="2023-05-01", valueCodeableConcept=b.cc(SCT, "271299001")),
        b.observation("97509-4", when="2025-09-15", valueCodeableConcept=b.cc(SCT, "359746009")),
    )


def test_a_history_is_laid_out_in_order():
    record = _history_record()
    profile = build_profile(record, b.TODAY)
    t = _timeline_of(record, profile)
    assert [(p.date, p.value) for p in t.diagnosis.ki67] == [("2021-03-10", 3), ("2023-06-01", 8), ("2025-09-01", 14)]
    assert profile.ki67_percent.value == 14  # the profile grades on the latest specimen; the history keeps all three
    assert [p.value for p in t.diagnosis.mitoses] == [2]
    prrt = next(bar for bar in t.therapies if bar.therapy == "prrt")
    assert prrt.doses == ("2024-01-10", "2024-03-06", "2024-05-02", "2024-06-27") and prrt.periods == ()
    ssa = next(bar for bar in t.therapies if bar.therapy == "ssa")
    assert ssa.active and ssa.periods == (("2021-04-01", None),)
    cga = next(m for m in t.markers if m.label == "Chromogranin A")
    assert [(p.value, p.on_ppi) for p in cga.points] == [(300, True), (150, False)]
    assert cga.reference_high == 98 and cga.reference_low is None
    assert t.ppi_periods == (("2022-01-01", "2022-12-31"),)
    assert [(e.date, e.status) for e in t.status_events] == [("2023-05-01", "progressing"), ("2025-09-15", "stable")]
    assert [d.isoformat() for d in t.dates][0] == "2021-03-01"
