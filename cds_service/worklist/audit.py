"""The audit record of a worklist run: what was read, with which code and knowledge base, what came out.

Written as JSON next to the output (`<out>.audit.json`) so an informatics team can say, later, exactly
which export and which rules produced a clinic's queues.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cds_service import __version__
from cds_service.cards.data import card_data
from cds_service.worklist.queues import load_queues
from cds_service.worklist.rows import WorklistRow


@dataclass
class RunTally:
    """Counts kept while the rows stream past (no row is held in memory)."""

    patients: int = 0
    in_scope: int = 0
    errors: int = 0
    queues: Counter = field(default_factory=Counter)
    error_kinds: Counter = field(default_factory=Counter)

    def add(self, row: WorklistRow, queues: tuple[str, ...]) -> None:
        self.patients += 1
        self.in_scope += row.in_scope
        if row.error:
            self.errors += 1
            self.error_kinds[row.error] += 1
        self.queues.update(queues)


def code_version() -> str:
    """The package version, and the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def audit_record(*, export_path: Path, fingerprint: str, as_of: str, engine: str, workers: int,
                 prefiltered: int | None, tally: RunTally, seconds: float, out: Path | None) -> dict[str, Any]:
    kb = card_data().knowledge_base
    return {
        "run": {"finished": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 2),
                "engine": engine, "workers": workers, "python": platform.python_version()},
        "export": {"path": str(export_path), "sha256": fingerprint, "asOf": as_of},
        "code": code_version(),
        "knowledgeBase": {"version": str(kb["version"]), "lastClinicalReview": str(kb["last_clinical_review"])},
        "patients": tally.patients, "patientsInScope": tally.in_scope,
        "patientsAfterPrefilter": prefiltered,
        "errors": tally.errors, "errorKinds": dict(tally.error_kinds),
        "queues": {q.id: tally.queues.get(q.id, 0) for q in load_queues()},
        "output": str(out) if out else None,
    }


def write_audit(record: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
