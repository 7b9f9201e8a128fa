"""CDS Hooks 2.0 request schemas (marshmallow). Unknown keys are ignored, as hook versions add fields."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

_not_blank = validate.Length(min=1)
# FHIR R4 id: the patient id is substituted into fallback query paths, so nothing else is accepted.
_fhir_id = validate.Regexp(r"^[A-Za-z0-9\-.]{1,64}\Z", error="must be a FHIR id ([A-Za-z0-9-.], at most 64).")


_relative_reference = validate.Regexp(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}\Z",
                                      error="must be a reference Type/id to an order in draftOrders.")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class FhirAuthorizationSchema(_Lenient):
    access_token = fields.String(required=True, validate=_not_blank)
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer", "bearer"]))
    expires_in = fields.Integer(required=True, strict=True)
    scope = fields.String(required=True)
    subject = fields.String(required=True)
    patient = fields.String()


class BundleSchema(_Lenient):
    resourceType = fields.String(required=True, validate=validate.Equal("Bundle"))
    entry = fields.List(fields.Dict(), load_default=list)


class PatientViewContextSchema(_Lenient):
    userId = fields.String(required=True, validate=_not_blank)
    patientId = fields.String(required=True, validate=_fhir_id)
    encounterId = fields.String()


class OrderSignContextSchema(PatientViewContextSchema):
    draftOrders = fields.Nested(BundleSchema, required=True)


class OrderSelectContextSchema(OrderSignContextSchema):
    """order-select: the drafts just selected (`Type/id` of entries in draftOrders), at least one."""

    selections = fields.List(fields.String(validate=_relative_reference), required=True,
                             validate=validate.Length(min=1))


class HookRequestSchema(_Lenient):
    hook = fields.String(required=True, validate=_not_blank)
    hookInstance = fields.UUID(required=True)
    fhirServer = fields.Url(require_tld=False, schemes={"http", "https"})
    fhirAuthorization = fields.Nested(FhirAuthorizationSchema)
    context = fields.Dict(required=True)
    prefetch = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    extension = fields.Dict()

    @validates_schema
    def _server_with_token(self, data: dict, **_: object) -> None:
        if "fhirAuthorization" in data and "fhirServer" not in data:
            raise ValidationError("fhirServer is required when fhirAuthorization is present.", "fhirServer")


CONTEXT_SCHEMAS: dict[str, type[Schema]] = {
    "patient-view": PatientViewContextSchema,
    "order-sign": OrderSignContextSchema,
    "order-select": OrderSelectContextSchema,
}


def first_error(messages: dict | list | str, prefix: str = "") -> tuple[str, str]:
    """The first (field path, message) of a marshmallow error dict, e.g. ("context.patientId", ...)."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
        return first_error(value, path)
    if isinstance(messages, list) and messages:
        return first_error(messages[0], prefix)
    return prefix or "body", str(messages)
