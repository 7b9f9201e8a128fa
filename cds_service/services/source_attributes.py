"""Decision-support source attributes (US HTI-1, 45 CFR 170.315(b)(11) style), served with discovery.

From cards/knowledge_base.yaml (developer, intended use and users, known limits, knowledge-base version
and last clinical review) and cards/sources.yaml (the evidence, each with its date). Served whole at
GET /cds-services/source-attributes and in short in each discovery entry's extension
(docs/source-attributes.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cds_service.cards.data import cards_dir

EXTENSION = "org.net-cds.source-attributes"
PATH = "/cds-services/source-attributes"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def _attributes(directory: Path) -> dict[str, Any]:
    kb = _yaml(directory / "knowledge_base.yaml")
    sources = _yaml(directory / "sources.yaml")
    dates = kb.get("evidence_dates") or {}
    return {
        "developer": kb["developer"],
        "funding": kb["funding"],
        "intendedUse": kb["intended_use"],
        "intendedUsers": kb["intended_users"],
        "knownLimits": list(kb["known_limits"]),
        "knowledgeBase": {"version": str(kb["version"]), "versionDate": str(kb["version_date"]),
                          "lastClinicalReview": str(kb["last_clinical_review"])},
        "evidence": [{"label": s["label"], "url": s["url"], "date": str(dates[key])} for key, s in sources.items()],
    }


def source_attributes() -> dict[str, Any]:
    """The full source attributes (for the endpoint)."""
    return _attributes(cards_dir())


def discovery_extension() -> dict[str, Any]:
    """The short form each discovery entry carries (the full document is at PATH)."""
    full = source_attributes()
    return {EXTENSION: {"developer": full["developer"]["name"], "intendedUse": full["intendedUse"],
                        "knowledgeBase": full["knowledgeBase"], "evidenceSources": len(full["evidence"]),
                        "details": PATH}}
