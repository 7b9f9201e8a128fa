"""Section 4.6, R-1: localized, resectable disease goes to a surgeon (or endoscopist) before any
advanced-pathway rule (seed 000: resection is the mainstay of treatment for resectable disease).

Registered before the pathway modules, so it comes first in the next-step selection.
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import add_core_facts, new_finding
from cds_service.rules.findings import Check, Finding, Option, all_of, check
from cds_service.rules.registry import rule

# Primaries that are often removed endoscopically when small (model section 4.6, R-1).
ENDOSCOPIC_SITES = ("rectum", "stomach", "duodenum")


def localized_resectable(p: PatientProfile) -> bool:
    """No metastatic site, not resected, resectable recorded as true (R-1; also used by X-2)."""
    return p.stage.value == "unknown" and p.metastatic.value is not True and p.resectable.value is True


def _build_r_1(p: PatientProfile, c: Check) -> Finding:
    site = (p.primary_site.value or "").lower()
    f = new_finding("R-1", options=[Option("resection-local", True)],
                    params={"endoscopic_site": site in ENDOSCOPIC_SITES,
                            "nec": p.differentiation.value == "NEC"})
    add_core_facts(f, p, "resectable", "stage")
    return f


@rule("R-1", hook="patient-view", kind="next-step", topic="resection-evaluation", group="resection",
      seeds=("000",), guidelines=("esmo-2020", "enets-2024-si"), build=_build_r_1)
def r_1(p: PatientProfile) -> Check:
    """No metastatic site, no resection, and resectable recorded as true: refer to a NET surgeon (or an
    endoscopist for a small rectal, gastric or duodenal NET) or a tumour board before any advanced-disease
    therapy; surgery is the main treatment for resectable disease (000). Applies to every grade and to NEC
    (a tumour board plans perioperative treatment there). Resectability not recorded is not a guess: the
    STAGE-1 note on the next-step card says that resectable disease goes to a surgeon first."""
    return all_of(check("active in-scope NEN", p.nen_status == "active" and p.in_scope),
                  check("no metastatic site recorded", p.stage.value == "unknown" and p.metastatic.value is not True),
                  check("not resected", p.stage.value != "resected"),
                  check("resectable recorded as true", p.resectable.value is True))
