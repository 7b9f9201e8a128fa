"""The date a hook call is evaluated as of: the one place the service decides what 'today' is.

Rules that look at intervals (months since PRRT, labs older than 90 days, ...) need a reference date.
For real patients it is the current date. The synthetic samples are written for one date (their
`as_of` in samples/index.yaml), so a demo or a test asks for that date explicitly, in the request's
`extension` (CDS Hooks 2.0 allows request-level extensions) or for the whole service with
NET_CDS_AS_OF. A production service refuses both: its answers are about today.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cds_service.config import Settings
from cds_service.web.errors import ServiceError

AS_OF_EXTENSION = "org.net-cds.as-of"
_FIELD = f"extension.{AS_OF_EXTENSION}"


def as_of_extension(as_of: date) -> dict[str, str]:
    """The request `extension` that asks for an evaluation as of `as_of` (the tiny EHR sends it)."""
    return {AS_OF_EXTENSION: as_of.isoformat()}


def requested_as_of(extension: Any, settings: Settings, trusted: bool = False) -> date:
    """The request's as-of date, else NET_CDS_AS_OF, else the current date; a 400 naming the field
    when the request's date is not a date, or is sent to a production service (unless `trusted`: the
    in-process warm-up)."""
    value = extension.get(AS_OF_EXTENSION) if isinstance(extension, dict) else None
    if value is None:
        return settings.as_of or date.today()
    if settings.environment == "production" and not trusted:
        raise ServiceError(400, f"{_FIELD}: not accepted in production, where every call is evaluated as of "
                                "the current date.", _FIELD)
    parsed = _iso_date(value)
    if parsed is None:
        raise ServiceError(400, f"{_FIELD}: must be a date (YYYY-MM-DD).", _FIELD)
    return parsed


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
