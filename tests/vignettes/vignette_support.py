"""Shared helpers for the vignette and safety-invariant tests: load FHIR bundles (vignette cases and
sample patients), run the whole path record -> build_profile -> evaluate -> render_cards, validate.

Everything is discovered from the files on disk, so new cases and samples are picked up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from cds_service.web.card_validation import validate_card

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "vignettes" / "cases"
EXPECTATIONS = ROOT / "tests" / "vignettes" / "expectations.yaml"
SAMPLES_DIR = ROOT / "samples"

TOPIC_SYSTEM = "https://fhir.net-cds.org/CodeSystem/topic"
OVERRIDE_SYSTEMS = {"http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
                    "https://fhir.net-cds.org/CodeSystem/override-reason"}


@dataclass(frozen=True)
class Input:
    """One bundle to run: a vignette case or a sample patient, with its hook and draft."""

    id: str
    bundle: Path
    hook: str
    draft: Path | None
    today: date | None
    expectation: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.id


def _today(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)) if value else None


def expectations() -> dict[str, Any]:
    if not EXPECTATIONS.exists():
        return {}
    return yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8")) or {}


def vignette_inputs() -> list[Input]:
    """Every case file in tests/vignettes/cases/ (with its expectation when it has one)."""
    exp = expectations()
    cases = exp.get("cases") or {}
    out = []
    for path in sorted(CASES_DIR.glob("*.json")) if CASES_DIR.exists() else ():
        e = cases.get(path.name)
        hook = (e or {}).get("hook", "patient-view")
        draft = CASES_DIR / e["draft"] if e and e.get("draft") else None
        out.append(Input(f"case:{path.stem}", path, hook, draft, _today((e or {}).get("today") or exp.get("today")),
                         e))
    return out


def sample_inputs() -> list[Input]:
    """Every sample patient (patient-view), and order-sign for those with a draft bundle."""
    if not SAMPLES_DIR.exists():
        return []
    index_path = SAMPLES_DIR / "index.yaml"
    index = yaml.safe_load(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
    listed = {s["file"]: s for s in (index or {}).get("samples") or ()}
    today = _today((index or {}).get("as_of"))
    out = []
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        meta = listed.get(path.name, {})
        out.append(Input(f"sample:{path.stem}", path, "patient-view", None, today, meta or None))
        if meta.get("draft"):
            out.append(Input(f"sample:{path.stem}:order-sign", path, "order-sign", SAMPLES_DIR / meta["draft"],
                             today, meta))
    return out


def all_inputs() -> list[Input]:
    return vignette_inputs() + sample_inputs()


@dataclass
class Outcome:
    profile: Any
    findings: list[Any]
    cards: list[dict]
    evaluations: list[Any]


def run(inp: Input) -> Outcome:
    """The whole path for one input, with the service's default settings (cards arranged as answered)."""
    from cds_service.cards import CardOptions, arrange, render_cards
    from cds_service.commands.explain import profile_from_bundles
    from cds_service.rules.engine import run as run_rules

    bundle = json.loads(inp.bundle.read_text(encoding="utf-8"))
    draft = json.loads(inp.draft.read_text(encoding="utf-8")) if inp.draft else None
    profile = profile_from_bundles(bundle, draft, inp.today)
    findings, evaluations = run_rules(profile, inp.hook)
    findings = arrange(findings, CardOptions(profile_card=bool((inp.expectation or {}).get("profile_card"))))
    return Outcome(profile, findings, render_cards(findings, profile), evaluations)


# ------------------------------------------------------------------------------------ validation


def card_errors(card: dict) -> list[str]:
    """CDS Hooks 2.0 errors of one card (the service's own validator) plus the project's contract."""
    return validate_card(card) + essential_errors(card)


def essential_errors(card: dict) -> list[str]:
    """The project's own card contract (model section 7), beyond what CDS Hooks requires."""
    errors: list[str] = []
    source = card.get("source") or {}
    if not str(source.get("url", "")).startswith("https://"):
        errors.append("source.url must be the guideline's https link")
    topic = source.get("topic") or {}
    if topic.get("system") != TOPIC_SYSTEM or not topic.get("code") or not topic.get("display"):
        errors.append("source.topic must be a Coding in the project's topic CodeSystem")
    if not card.get("links"):
        errors.append("the guideline must be in links")
    if "](http" in str(card.get("detail")) or "#### Source" in str(card.get("detail")):
        errors.append("guideline links belong in links, not in the detail")
    for link in card.get("links") or ():
        if link.get("type") != "absolute" or not str(link.get("url", "")).startswith("https://"):
            errors.append(f"link {link} must be absolute https")
    for s in card.get("suggestions") or ():
        if not s.get("actions"):
            errors.append(f"suggestion without actions: {s.get('label')}")
        for a in s.get("actions") or ():
            errors += action_errors(a)
    if card.get("indicator") in ("warning", "critical"):
        reasons = card.get("overrideReasons") or []
        if not reasons or any(r.get("system") not in OVERRIDE_SYSTEMS or not r.get("display") for r in reasons):
            errors.append("warning/critical cards need overrideReasons with system and display")
    return errors


def action_errors(action: dict) -> list[str]:
    from fhir.resources.R4B import get_fhir_model_class

    errors = []
    kind = action.get("type")
    if kind == "delete":
        if not re.match(r"^[A-Z][A-Za-z]+/[^/\s]+$", str(action.get("resourceId", ""))):
            errors.append(f"delete needs a relative resourceId: {action}")
    elif kind in ("create", "update"):
        resource = action.get("resource")
        if not isinstance(resource, dict):
            return [f"{kind} needs a resource"]
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception as exc:  # noqa: BLE001 - any validation failure is an error here
            errors.append(f"{kind} resource is not valid FHIR R4: {str(exc)[:200]}")
    else:
        errors.append(f"bad action type {kind}")
    return errors


def suggestion_kinds(card: dict) -> set[str]:
    """'create:ServiceRequest', 'update:MedicationRequest', 'delete:MedicationRequest' ..."""
    kinds = set()
    for s in card.get("suggestions") or ():
        for a in s.get("actions") or ():
            if a.get("type") == "delete":
                kinds.add(f"delete:{str(a.get('resourceId', '')).split('/')[0]}")
            else:
                kinds.add(f"{a.get('type')}:{(a.get('resource') or {}).get('resourceType')}")
    return kinds


def topics(cards: list[dict]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]
