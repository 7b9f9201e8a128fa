"""Evaluating the registry on one profile: which cards, in which order, and why (decision model 4-7).

patient-view: the profile card (X-9) or the out-of-scope card, at most one next-step card (with its
addenda), at most one syndrome-control card, the data-gap and safety cards, at most one follow-up
card. order-sign: only cards about the drafted orders. Findings are ordered critical, warning, info.

Selection inside a group ("first rule that fires wins"): when a higher-priority rule is unknown
(an input it needs is missing), the card becomes conditional and shows each possible branch and
what decides between them, instead of guessing (invariant 5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cds_service.profile.model import DraftOrder, PatientProfile
from cds_service.rules.findings import INDICATOR_RANK, Branch, Check, Finding, RuleEvaluation
from cds_service.rules.registry import Rule, all_rules

log = logging.getLogger(__name__)

KIND_ORDER = {"scope": 0, "profile": 0, "next-step": 1, "syndrome": 2, "safety": 3, "gap": 4, "follow-up": 5,
              "order": 6}
HOOKS = ("patient-view", "order-sign")


def evaluate(profile: PatientProfile, hook: str) -> list[Finding]:
    """The findings (one per card) for `hook`, ordered critical -> warning -> info."""
    findings, _ = run(profile, hook)
    return findings


def explain(profile: PatientProfile, hook: str) -> list[RuleEvaluation]:
    """Every rule of `hook`, fired or not, with the reason (and the finding when it fired)."""
    _, evaluations = run(profile, hook)
    return evaluations


def run(profile: PatientProfile, hook: str) -> tuple[list[Finding], list[RuleEvaluation]]:
    if hook == "patient-view":
        findings, evaluations = _patient_view(profile)
    elif hook == "order-sign":
        findings, evaluations = _order_sign(profile)
    else:
        raise ValueError(f"unknown hook {hook!r}; expected one of {HOOKS}")
    findings.sort(key=lambda f: (INDICATOR_RANK[f.indicator], KIND_ORDER.get(f.kind, 9)))
    return findings, evaluations


# ------------------------------------------------------------------------------------------------


def _safe(rule: Rule, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except Exception:  # a broken rule must not take the other cards down; it is logged and reported
        log.exception("rule %s failed", rule.id)
        return Check(False, "error while evaluating the rule (logged)")


def _build(rule: Rule, *args: object) -> Finding | None:
    """The rule's finding, or None (logged) when building it fails: one broken rule, not all cards."""
    if rule.build is None:
        return None
    try:
        return rule.build(*args)
    except Exception:
        log.exception("building the finding of rule %s failed", rule.id)
        return None


def _suppressed(rule: Rule, profile: PatientProfile, *args: object) -> str | None:
    return rule.suppress(profile, *args) if rule.suppress else None


def _evaluation(rule: Rule, status: str, reason: str, c: Check | None = None, finding: Finding | None = None,
                order_ref: str | None = None) -> RuleEvaluation:
    return RuleEvaluation(rule.id, rule.hook, rule.kind, rule.topic, status, reason,  # type: ignore[arg-type]
                          c.missing if c is not None else (), order_ref, finding)


def _merge_addendum(host: Finding, addendum: Finding) -> None:
    host.addenda.append(addendum)
    host.add_facts(*addendum.facts)
    if addendum.conditional:  # e.g. SUSPECT-1: the card becomes conditional and names what decides first
        host.conditional = True
        host.missing[:0] = [m for m in addendum.missing if m not in host.missing]
    host.add_missing(*addendum.missing)


def _exclusive_scope(profile: PatientProfile) -> Rule | None:
    """The exclusive scope rule (section 1: under 18) that applies to this patient, if any."""
    for r in all_rules("patient-view"):
        if r.exclusive and _safe(r, lambda r=r: r.condition(profile)).ok is True:
            return r
    return None


def _select_one(rules: list[Rule], profile: PatientProfile) -> tuple[Finding | None, list[RuleEvaluation]]:
    """First rule that fires wins; unknown rules before it make the card conditional."""
    evaluations: list[RuleEvaluation] = []
    checks = [(r, _safe(r, lambda r=r: r.condition(profile))) for r in rules]
    unknown: list[tuple[Rule, Check]] = []
    chosen: tuple[Rule, Check] | None = None
    for r, c in checks:
        if chosen is not None:
            status = "not-fired" if c.ok is False else "superseded"
            reason = c.reason if c.ok is False else f"superseded by {chosen[0].id} ({c.reason})"
            evaluations.append(_evaluation(r, status, reason, c))
        elif c.ok is True:
            chosen = (r, c)
        elif c.ok is None:
            unknown.append((r, c))
        else:
            evaluations.append(_evaluation(r, "not-fired", c.reason, c))
    if chosen is None and not unknown:
        return None, evaluations
    prechecks: list[tuple[Rule, Check]] = []
    if chosen is not None:  # unknown pre-checks (GI-1) do not make a fired card conditional
        prechecks = [(r, c) for r, c in unknown if r.precheck]
        unknown = [(r, c) for r, c in unknown if not r.precheck]
    if unknown:
        head_rule, head_check = _conditional_head(unknown + ([chosen] if chosen else []))
    else:
        head_rule, head_check = chosen  # type: ignore[misc]
    card = _build(head_rule, profile, head_check)
    if card is None:
        for r, c in prechecks + unknown + ([chosen] if chosen else []):
            evaluations.append(_evaluation(r, "error", f"{c.reason} (card could not be built; logged)", c))
        return None, evaluations
    for r, c in prechecks:
        built = _build(r, profile, c)
        card.prechecks.append(Branch(r.id, r.topic, c.missing, tuple(built.options) if built else ()))
        card.add_missing(*c.missing)
        evaluations.append(_evaluation(r, "unknown", f"{c.reason} -> 'check first' note on the "
                                       f"{head_rule.id} card", c, card))
    if unknown:
        card.conditional = True
        for r, c in unknown + ([chosen] if chosen else []):
            built = _build(r, profile, c)
            card.branches.append(Branch(r.id, r.topic, c.missing, tuple(built.options) if built else ()))
            card.add_missing(*c.missing)
            if built is not None and r is not head_rule:
                card.add_facts(*built.facts)
    for r, c in unknown:
        evaluations.append(_evaluation(r, "unknown", f"{c.reason} -> branch of a conditional card", c, card))
    if chosen is not None:
        r, c = chosen
        extra = " (conditional: shown with the unknown branches above it)" if unknown else ""
        evaluations.append(_evaluation(r, "fired", c.reason + extra, c, card))
    order = {r.id: i for i, r in enumerate(rules)}
    evaluations.sort(key=lambda e: order[e.rule_id])
    return card, evaluations


# How far a branch's topic goes in treatment (decision model section 4: a conditional card takes the topic
# of the branch that needs no further treatment decision or, failing that, the least aggressive one; a
# PRRT or chemotherapy topic only when every branch has it). Unlisted topics rank in the middle.
TOPIC_AGGRESSIVENESS: dict[str, int] = {
    "surveillance": 0, "post-resection-surveillance": 0, "follow-up-schedule": 0,
    "resection-evaluation": 1, "insulinoma-control": 2, "gastrinoma-acid-control": 2,
    "ssa-syndrome-control": 2, "hormone-control": 2, "ssa-first-line": 3,
    "targeted-first-line": 4, "targeted-later-line": 4, "targeted-choice": 4, "liver-directed": 5,
    "sstr-negative-pnet": 6, "after-ssa-pnet": 6, "after-prrt": 7, "prrt-first-line": 8, "prrt-after-ssa": 8,
    "g3-net-first-line": 9, "cytoreduction-first-line": 9, "nec-second-line": 9, "nec-first-line": 10,
}


def _conditional_head(branches: list[tuple[Rule, Check]]) -> tuple[Rule, Check]:
    """Which branch names a conditional card (its topic): never a pre-check (GI-1); the least
    aggressive topic (section 4, TOPIC_AGGRESSIVENESS); on a tie, one that does not hinge on SSTR status
    (the SSTR gap card asks for that), then the first in priority order."""
    def sstr(c: Check) -> bool:
        return c.ok is None and any("SSTR" in m for m in c.missing)

    candidates = [b for b in branches if not b[0].precheck] or branches
    if not candidates:
        raise ValueError("no branch")
    return min(candidates, key=lambda b: (TOPIC_AGGRESSIVENESS.get(b[0].topic, 5), sstr(b[1])))


def _patient_view(profile: PatientProfile) -> tuple[list[Finding], list[RuleEvaluation]]:
    rules = all_rules("patient-view")
    by_kind: dict[str, list[Rule]] = {}
    for r in rules:
        by_kind.setdefault(r.kind, []).append(r)
    findings: list[Finding] = []
    evaluations: list[RuleEvaluation] = []

    exclusive = _exclusive_scope(profile)
    if exclusive is not None:
        card = _build(exclusive, profile, Check(True, "exclusive scope"))
        for r in rules:
            if r is exclusive:
                evaluations.append(_evaluation(r, "fired", "exclusive scope: no other patient-view card", None, card))
            else:
                evaluations.append(_evaluation(r, "superseded", f"superseded by {exclusive.id} (exclusive scope)"))
        return ([card] if card is not None else []), evaluations

    # Independent cards: profile / scope, gaps and safety.
    for r in by_kind.get("profile", []) + by_kind.get("scope", []) + by_kind.get("gap", []) + \
            by_kind.get("safety", []):
        why_not = _suppressed(r, profile)
        c = _safe(r, lambda r=r: r.condition(profile))
        if why_not and c.ok is not False:
            evaluations.append(_evaluation(r, "suppressed", why_not, c))
        elif c.ok is True and (f := _build(r, profile, c)) is not None:
            findings.append(f)
            evaluations.append(_evaluation(r, "fired", c.reason, c, f))
        else:
            status = "unknown" if c.ok is None else "not-fired"
            evaluations.append(_evaluation(r, status, c.reason + (" (no card)" if c.ok is None else ""), c))

    # At most one next-step, one syndrome-control and one follow-up card, then the addenda of each.
    hosts: dict[str, Finding | None] = {}
    for kind in ("next-step", "syndrome", "follow-up"):
        hosts[kind], evs = _select_one(by_kind.get(kind, []), profile)
        evaluations += evs
    for r in by_kind.get("addendum", []):
        host = hosts.get(r.host)
        c = _safe(r, lambda r=r, host=host: r.condition(profile, host))
        if c.ok is True and host is not None and (add := _build(r, profile, c, host)) is not None:
            _merge_addendum(host, add)
            evaluations.append(_evaluation(r, "fired", f"{c.reason} (in the {host.rule_id} card)", c, host))
        else:
            evaluations.append(_evaluation(r, "unknown" if c.ok is None else "not-fired", c.reason, c))
    findings += [card for card in hosts.values() if card is not None]
    return findings, evaluations


def _order_sign(profile: PatientProfile) -> tuple[list[Finding], list[RuleEvaluation]]:
    findings: list[Finding] = []
    evaluations: list[RuleEvaluation] = []
    exclusive = _exclusive_scope(profile)
    for r in all_rules("order-sign"):
        drafts = [o for o in profile.draft_orders if o.therapy in r.drafted]
        if not drafts:
            evaluations.append(_evaluation(r, "not-fired", f"no drafted {' / '.join(r.drafted)} order"))
            continue
        for order in drafts:
            f, ev = _order_rule(r, profile, order)
            if f is not None and exclusive is not None and f.indicator == "info":
                ev = _evaluation(r, "suppressed", f"{exclusive.id}: only warning and critical order cards apply",
                                 None, order_ref=order.reference)
                f = None
            evaluations.append(ev)
            if f is not None:
                findings.append(f)
    return findings, evaluations


def _order_rule(r: Rule, profile: PatientProfile, order: DraftOrder) -> tuple[Finding | None, RuleEvaluation]:
    c = _safe(r, lambda: r.condition(profile, order))
    why_not = _suppressed(r, profile, order)
    if why_not and c.ok is not False:
        return None, _evaluation(r, "suppressed", why_not, c, order_ref=order.reference)
    f = _build(r, profile, c, order) if c.ok is not False else None
    if f is None:
        reason = c.reason if c.ok is False else f"{c.reason} (card could not be built; logged)"
        return None, _evaluation(r, "not-fired" if c.ok is False else "error", reason, c,
                                 order_ref=order.reference)
    if c.ok is None:
        f.conditional = True
        f.add_missing(*c.missing)
        return f, _evaluation(r, "unknown", f"{c.reason} -> conditional card", c, f, order.reference)
    return f, _evaluation(r, "fired", c.reason, c, f, order.reference)
