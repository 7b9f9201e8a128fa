"""The clinic's queues (mappings/worklist-queues.yaml): which rows each queue lists, from the rules fired.

A queue is a view of the patient-view answer, never a second reading of FHIR: a row is in a queue when
one of the queue's rules is on its cards, or a card has one of its indicators (and, for follow-up queues,
the card names the check overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from cds_service.profile.codes import MAPPINGS_DIR
from cds_service.worklist.rows import WorklistRow

QUEUES_FILE = MAPPINGS_DIR / "worklist-queues.yaml"


@dataclass(frozen=True)
class Queue:
    id: str
    title: str
    rules: frozenset[str]
    source: str
    overdue: frozenset[str] = frozenset()
    note: str = ""
    indicators: frozenset[str] = frozenset()  # any card with one of these indicators (e.g. critical)

    def lists(self, row: WorklistRow) -> bool:
        if row.error:
            return False
        indicated = any(getattr(row, f"cards_{i}", 0) for i in self.indicators)
        if not indicated and not self.rules.intersection(row.rules):
            return False
        return not self.overdue or bool(self.overdue.intersection(row.overdue))

    def reasons(self, row: WorklistRow) -> tuple[str, ...]:
        """The rule ids that put a listed row in this queue (a Task's reasonCode), in answer order."""
        critical = {f.rule_id for f in row.findings if f.indicator in self.indicators}
        return tuple(r for r in row.rules if r in self.rules or r in critical)


@cache
def load_queues(path: Path = QUEUES_FILE) -> tuple[Queue, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(Queue(q["id"], q["title"], frozenset(q.get("rules") or ()), q["source"],
                       frozenset(q.get("overdue") or ()), " ".join(str(q.get("note", "")).split()),
                       frozenset(q.get("indicators") or ())) for q in data["queues"])


def queues_for(row: WorklistRow, queues: tuple[Queue, ...] | None = None) -> tuple[str, ...]:
    """The ids of the queues that list this row, in the file's order."""
    return tuple(q.id for q in (queues or load_queues()) if q.lists(row))
