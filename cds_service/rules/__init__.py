"""Clinical rules (decision model sections 4-6): profile in, findings out.

Public API used by the web layer and the CLI:

- `evaluate(profile, hook) -> list[Finding]`: the cards to show, ordered critical -> warning -> info.
- `explain(profile, hook) -> list[RuleEvaluation]`: every rule, fired or not, and why.
- `all_rules(hook=None) -> list[Rule]`: the registry (id, hook, kind, topic, source).
"""

from cds_service.rules.engine import evaluate, explain
from cds_service.rules.findings import Finding, RuleEvaluation
from cds_service.rules.registry import Rule, all_rules, get_rule

__all__ = ["Finding", "Rule", "RuleEvaluation", "all_rules", "evaluate", "explain", "get_rule"]
