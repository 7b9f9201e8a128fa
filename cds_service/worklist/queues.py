"""The clinic's queues (mappings/worklist-queues.yaml): which rows each queue lists, from the rules fired.

A queue is a view of the patient-view answer, never a second reading of FHIR: a row is in a queue when
one of the queue's rules is on its cards (and, for follow-up queues, the card names the check overdue).
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

    def lists(self, row: WorklistRow) -> bool:
        if row.error or not self.rules.intersection(row.rules):
            return False
        return not self.overdue or bool(self.overdue.intersection(row.overdue))


@cache
def load_queues(path: Path = QUEUES_FILE) -> tuple[Queue, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(Queue(q["id"], q["title"], frozenset(q["rules"]), q["source"], frozenset(q.get("overdue") or ()),
                       q.get("note", "")) for q in data["queues"])


def queues_for(row: WorklistRow, queues: tuple[Queue, ...] | None = None) -> tuple[str, ...]:
    """The ids of the queues that list this row, in the file's order."""
    return tuple(q.id for q in (queues or load_queues()) if q.lists(row))
