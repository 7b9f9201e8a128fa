"""Suspected diagnoses on the next-step card (decision model section 2, safety invariant 8).

A provisional, differential or unconfirmed diagnosis never sets a profile field, so the pathway follows
the confirmed record. When a suspicion would change that pathway (a NEC, a functioning syndrome, a
metastasis), SUSPECT-1 makes the next-step card conditional and names the unconfirmed diagnosis first:
the card never reads as a confident recommendation while the suspicion is open. Syndrome-control and
order rules name suspected diagnoses through their own three-valued checks (common.syndrome_check,
common.nec_check); O-PPI-1 is written for the suspected ZES.

MEDS-1 does the same for a medication record whose drug cannot be identified (an unresolvable
medicationReference): the next-step card lists it under Missing, since a therapy may be missing from the
line of therapy it used (section 2: the profile never silently loses a therapy).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    FUNCTIONAL,
    add_suspected_facts,
    new_finding,
    suspected,
    suspected_missing,
    unknown_medication_missing,
)
from cds_service.rules.findings import Check, Finding, all_of, check
from cds_service.rules.registry import rule

# What a suspicion would change on the next-step card: differentiation, functional status, stage.
PATHWAY_CHANGING = ("nec", "metastasis", *FUNCTIONAL)


def _build_suspect_1(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    found = suspected(p, *PATHWAY_CHANGING)
    f = new_finding("SUSPECT-1", conditional=True,
                    params={"diagnoses": [f"suspected:{s.diagnosis}" for s in found]})
    add_suspected_facts(f, found)
    f.add_missing(*suspected_missing(found))
    return f


@rule("SUSPECT-1", hook="patient-view", kind="addendum", topic="net-profile", group="addendum",
      seeds=(), guidelines=("who-2019",), build=_build_suspect_1)
def suspect_1(p: PatientProfile, host: Finding | None) -> Check:
    """A next-step card while a diagnosis that would change it (NEC, a functioning syndrome, a
    metastasis) is recorded only as provisional, differential or unconfirmed: the card is conditional
    and says which diagnosis to confirm or refute first (model section 2; invariant 8). Choice where the
    model is silent: the options shown are those of the confirmed record, never withdrawn, so the
    clinician sees both what applies now and that it may change."""
    return all_of(check("a next-step card to attach to", host is not None),
                  check("a pathway-changing diagnosis is only suspected", bool(suspected(p, *PATHWAY_CHANGING))))


def _build_meds_1(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    f = new_finding("MEDS-1")
    for med in p.unknown_medications:
        f.add_missing(unknown_medication_missing(med))
    return f


@rule("MEDS-1", hook="patient-view", kind="addendum", topic="net-profile", group="addendum",
      seeds=(), guidelines=("esmo-2020",), build=_build_meds_1)
def meds_1(p: PatientProfile, host: Finding | None) -> Check:
    """A next-step card while a medication record's drug cannot be identified (medicationReference not
    resolvable, no medication): the card lists it under Missing, since the line of therapy may be
    incomplete (model section 2: a missing Medication is never silent)."""
    return all_of(check("a next-step card to attach to", host is not None),
                  check("a medication record whose drug is unknown", bool(p.unknown_medications)))
