"""CDS Hooks 2.0 card rules, checked on every card before it leaves the service.

A card that breaks them is a server bug: the hooks blueprint logs it and drops it. The checks
mirror the spec (2.0 §CDS Service Response) and the FHIR-validator invariants cds-resp-1..6.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

INDICATORS = {"info", "warning", "critical"}
SELECTION_BEHAVIORS = {"at-most-one", "any"}
ACTION_TYPES = {"create", "update", "delete"}
LINK_TYPES = {"absolute", "smart"}


def _empty_values(value: Any, path: str) -> list[str]:
    """Paths of null or empty values (prohibited in CDS Hooks JSON, except `cards: []`)."""
    if value is None or value == "" or value == [] or value == {}:
        return [f"{path} is null or empty"]
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _empty_values(item, f"{path}[{index}]")
    return found


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _coding_errors(coding: Any, path: str, display_required: bool) -> list[str]:
    if not isinstance(coding, dict):
        return [f"{path} is not a Coding"]
    errors = [f"{path}.{k} is required" for k in ("system", "code") if not isinstance(coding.get(k), str)]
    if display_required and not isinstance(coding.get("display"), str):
        errors.append(f"{path}.display is required")
    return errors


def _action_errors(action: Any, path: str) -> list[str]:
    if not isinstance(action, dict):
        return [f"{path} is not an object"]
    errors = []
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        errors.append(f"{path}.type must be one of {sorted(ACTION_TYPES)}")
    if not isinstance(action.get("description"), str):
        errors.append(f"{path}.description is required")
    if kind in ("create", "update") and not isinstance(action.get("resource"), dict):
        errors.append(f"{path}.resource is required for {kind}")
    if kind == "delete":
        if not isinstance(action.get("resourceId"), str):
            errors.append(f"{path}.resourceId is required for delete")
        if "resource" in action:
            errors.append(f"{path}.resource must not be used for delete (use resourceId)")
    return errors


def _suggestion_errors(suggestion: Any, path: str) -> list[str]:
    if not isinstance(suggestion, dict):
        return [f"{path} is not an object"]
    errors = []
    if not isinstance(suggestion.get("label"), str):
        errors.append(f"{path}.label is required")
    if not _is_uuid(suggestion.get("uuid")):
        errors.append(f"{path}.uuid must be a UUID")
    if "isRecommended" in suggestion and not isinstance(suggestion["isRecommended"], bool):
        errors.append(f"{path}.isRecommended must be a boolean")
    actions = suggestion.get("actions", [])
    if not isinstance(actions, list):
        return errors + [f"{path}.actions must be an array"]
    for index, action in enumerate(actions):
        errors += _action_errors(action, f"{path}.actions[{index}]")
    return errors


def _link_errors(link: Any, path: str) -> list[str]:
    if not isinstance(link, dict):
        return [f"{path} is not an object"]
    errors = [f"{path}.{k} is required" for k in ("label", "url") if not isinstance(link.get(k), str)]
    if link.get("type") not in LINK_TYPES:
        errors.append(f"{path}.type must be absolute or smart")
    if "appContext" in link and link.get("type") != "smart":
        errors.append(f"{path}.appContext is only allowed on smart links")
    return errors


def validate_card(card: Any) -> list[str]:
    """Every way this card breaks the CDS Hooks 2.0 card rules; empty when it is valid."""
    if not isinstance(card, dict):
        return ["card is not an object"]
    errors = _empty_values(card, "card")
    if not _is_uuid(card.get("uuid")):
        errors.append("card.uuid must be a UUID")
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("card.summary is required")
    elif len(summary) >= 140:
        errors.append(f"card.summary must be under 140 characters (has {len(summary)})")
    if "detail" in card and not isinstance(card["detail"], str):
        errors.append("card.detail must be a markdown string")
    if card.get("indicator") not in INDICATORS:
        errors.append("card.indicator must be info, warning or critical")
    source = card.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("label"), str):
        errors.append("card.source.label is required")
    elif "topic" in source:
        errors += _coding_errors(source["topic"], "card.source.topic", display_required=False)
    suggestions = card.get("suggestions")
    if suggestions is not None:
        if not isinstance(suggestions, list):
            errors.append("card.suggestions must be an array")
        else:
            for index, suggestion in enumerate(suggestions):
                errors += _suggestion_errors(suggestion, f"card.suggestions[{index}]")
            behavior = card.get("selectionBehavior")
            if behavior not in SELECTION_BEHAVIORS:
                errors.append("card.selectionBehavior is required with suggestions (at-most-one or any)")
            recommended = [s for s in suggestions if isinstance(s, dict) and s.get("isRecommended")]
            if behavior == "at-most-one" and len(recommended) > 1:
                errors.append("card with at-most-one selection has more than one recommended suggestion")
    elif "selectionBehavior" in card and card["selectionBehavior"] not in SELECTION_BEHAVIORS:
        errors.append("card.selectionBehavior must be at-most-one or any")
    for index, reason in enumerate(card.get("overrideReasons") or []):
        errors += _coding_errors(reason, f"card.overrideReasons[{index}]", display_required=True)
    for index, link in enumerate(card.get("links") or []):
        errors += _link_errors(link, f"card.links[{index}]")
    return errors


def valid_cards(cards: list[Any]) -> tuple[list[dict], list[tuple[dict, list[str]]]]:
    """Split cards into the valid ones and the rejected ones with their errors."""
    good: list[dict] = []
    bad: list[tuple[dict, list[str]]] = []
    for card in cards:
        errors = validate_card(card)
        if errors:
            bad.append((card, errors))
        else:
            good.append(card)
    return good, bad
