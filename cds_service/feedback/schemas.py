"""The feedback request (CDS Hooks 2.0 §Feedback) and invariants cds-fb-1..3; unknown keys ignored."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

MAX_ENTRIES = 100
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_text = validate.Length(min=1, max=1000)


def canonical_timestamp(value: str) -> str:
    """An RFC 3339 date-time with an offset, as UTC with microseconds (so equal instants compare equal)."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if not match:
        raise ValidationError("must be an RFC 3339 date-time with a time zone, e.g. 2026-01-31T14:05:00Z.")
    date, time, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{date}T{time}{fraction.ljust(7, '0')}{zone}")
    except ValueError as exc:
        raise ValidationError("is not a valid date-time.") from exc
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class CodingSchema(_Lenient):
    system = fields.String(required=True, validate=_text)
    code = fields.String(required=True, validate=_text)
    display = fields.String(validate=_text)


class OverrideReasonSchema(_Lenient):
    reason = fields.Nested(CodingSchema)
    userComment = fields.String(validate=validate.Length(min=1, max=4000))

    @validates_schema
    def _reason_or_comment(self, data: dict, **_: object) -> None:  # cds-fb-3
        if "reason" not in data and "userComment" not in data:
            raise ValidationError("an overrideReason needs a reason or a userComment (cds-fb-3).")


class AcceptedSuggestionSchema(_Lenient):
    id = fields.String(required=True, validate=_text)


class FeedbackItemSchema(_Lenient):
    card = fields.String(required=True, validate=validate.Length(min=1, max=200))
    outcome = fields.String(required=True, validate=validate.OneOf(["accepted", "overridden"]))  # cds-fb-1
    acceptedSuggestions = fields.List(fields.Nested(AcceptedSuggestionSchema), validate=validate.Length(max=100))
    overrideReason = fields.Nested(OverrideReasonSchema)
    outcomeTimestamp = fields.String(required=True)

    @validates_schema
    def _accepted_has_suggestions(self, data: dict, **_: object) -> None:  # cds-fb-2
        if data.get("outcome") == "accepted" and not data.get("acceptedSuggestions"):
            raise ValidationError("acceptedSuggestions is required when the outcome is accepted (cds-fb-2).",
                                  "acceptedSuggestions")

    @validates_schema
    def _timestamp(self, data: dict, **_: object) -> None:
        if "outcomeTimestamp" in data:
            try:
                canonical_timestamp(data["outcomeTimestamp"])
            except ValidationError as exc:
                raise ValidationError(exc.messages, "outcomeTimestamp") from exc


class FeedbackRequestSchema(_Lenient):
    feedback = fields.List(fields.Nested(FeedbackItemSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_ENTRIES))
