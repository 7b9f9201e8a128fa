"""The rule registry: every rule of the decision model (sections 4-6) as a small named unit.

A rule is a condition over the PatientProfile (tri-state `Check`) and a builder of its Finding.
Rules register themselves with `@rule(...)` when their module is imported; `all_rules()` lists them
in declaration order (which is also their priority inside a pathway group), for `explain`, the docs
and the tests. No rule reads FHIR: the profile is the only input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cds_service.rules.findings import Check, Finding, Indicator, Kind

Hook = Literal["patient-view", "order-sign"]

# Seed documents (decision model section 9 / seeds/README.md), cited by file name.
SEEDS: dict[str, str] = {
    "000": "000_bdc4e4554042a868.txt",
    "001": "001_7d46870f1ea3d291.txt",
    "002": "002_b0af89f5bc66a53c.txt",
    "003": "003_57a45cac53d36e4b.txt",
    "004": "004_e38b04f690a38c43.txt",
}


@dataclass(frozen=True)
class Rule:
    """One rule. `condition(profile[, order]) -> Check`; `build(profile, check[, order]) -> Finding`."""

    id: str
    hook: Hook
    kind: Kind
    topic: str
    group: str  # "gi", "pnet", "g3", "nec", "syndrome", "gap", "safety", "follow-up", "addendum", "order-..."
    seeds: tuple[str, ...]  # keys of SEEDS
    guidelines: tuple[str, ...]  # keys of cards/sources.yaml (section 9); the first is the card source
    condition: Callable[..., Check]
    build: Callable[..., Finding] | None = None
    indicator: Indicator = "info"
    drafted: tuple[str, ...] = ()  # order-sign: therapy classes of the drafts this rule looks at
    suppress: Callable[..., str | None] | None = None  # returns why the rule is suppressed, or None
    precheck: bool = False  # when unknown, shown as "first check" on the card a later rule fires
    # scope rules: when this one fires, patient-view shows only its card, and order-sign only the
    # warning and critical order cards (section 1: patients under 18)
    exclusive: bool = False
    host: Kind = "next-step"  # addenda: the kind of card they are a section of (next-step, syndrome, follow-up)
    doc: str = field(default="", compare=False)

    @property
    def seed_files(self) -> tuple[str, ...]:
        return tuple(SEEDS[s] for s in self.seeds)

    @property
    def source(self) -> str:
        """Human-readable source: seed files and guideline keys."""
        parts = list(self.seed_files) + list(self.guidelines)
        return ", ".join(parts)


_REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    hook: Hook,
    kind: Kind,
    topic: str,
    group: str,
    seeds: tuple[str, ...] = (),
    guidelines: tuple[str, ...] = (),
    build: Callable[..., Finding] | None = None,
    indicator: Indicator = "info",
    drafted: tuple[str, ...] = (),
    suppress: Callable[..., str | None] | None = None,
    precheck: bool = False,
    exclusive: bool = False,
    host: Kind = "next-step",
) -> Callable[[Callable[..., Check]], Callable[..., Check]]:
    """Register the decorated condition function as rule `rule_id`."""

    def decorate(condition: Callable[..., Check]) -> Callable[..., Check]:
        if rule_id in _REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        _REGISTRY[rule_id] = Rule(
            id=rule_id, hook=hook, kind=kind, topic=topic, group=group, seeds=seeds,
            guidelines=guidelines, condition=condition, build=build, indicator=indicator,
            drafted=drafted, suppress=suppress, precheck=precheck, exclusive=exclusive, host=host,
            doc=" ".join((condition.__doc__ or "").split()),
        )
        return condition

    return decorate


def all_rules(hook: str | None = None) -> list[Rule]:
    """Every registered rule (optionally for one hook), in declaration order: RULE_MODULES' order, then the
    order within each module, whichever module was imported first (the engine's "first that fires wins"
    and docs/rules.md depend on it; a module that imports `rules.gaps` early must not change it)."""
    _load()
    return [r for r in sorted(_REGISTRY.values(), key=_module_rank) if hook is None or r.hook == hook]


def _module_rank(r: Rule) -> int:
    module = r.condition.__module__.rsplit(".", 1)[-1]
    return RULE_MODULES.index(module) if module in RULE_MODULES else len(RULE_MODULES)


def get_rule(rule_id: str) -> Rule:
    _load()
    return _REGISTRY[rule_id]


def rules_in(group: str) -> list[Rule]:
    return [r for r in all_rules() if r.group == group]


RULE_MODULES = ("profile_card", "resection", "gi", "pancreas", "g3_nec", "syndrome", "addenda", "suspected",
                "gaps", "follow_up", "orders")


def _load() -> None:
    """Import the rule modules (they register on import), in the order the docs list them."""
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(f"cds_service.rules.{name}")
