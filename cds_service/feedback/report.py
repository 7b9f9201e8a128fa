"""`net-cds feedback report`: accepted and overridden cards per topic, with override reasons."""

from __future__ import annotations


def _topic_label(topic: dict) -> str:
    if topic["code"] is None:
        return "(card not issued by this service or issued before recording)"
    label = topic["code"]
    return f"{label} - {topic['display']}" if topic.get("display") else label


def format_report(topics: list[dict], location: str) -> str:
    """The summary as plain text, one block per topic."""
    if not topics:
        return f"No cards issued and no feedback yet ({location})."
    lines = [f"Feedback per card topic ({location})", ""]
    for topic in topics:
        answered = topic["accepted"] + topic["overridden"]
        rate = f", override rate {topic['overridden'] / answered:.0%}" if answered else ""
        lines.append(_topic_label(topic))
        lines.append(f"  issued {topic['issued']}, accepted {topic['accepted']}, "
                     f"overridden {topic['overridden']}{rate}")
        for reason in topic["overrideReasons"]:
            name = reason["display"] or reason["code"] or "(no coded reason: comment only)"
            comments = f", {reason['withComment']} with comment" if reason["withComment"] else ""
            lines.append(f"    - {name}: {reason['count']}{comments}")
        lines.append("")
    return "\n".join(lines).rstrip()
