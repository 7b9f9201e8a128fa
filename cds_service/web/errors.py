"""HTTP errors as FHIR OperationOutcome bodies; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_ISSUE_CODES = {400: "invalid", 401: "login", 404: "not-found", 405: "not-supported", 409: "conflict", 412: "not-found",
                413: "too-costly", 415: "not-supported", 429: "throttled"}


class ServiceError(Exception):
    """An error the service answers with a status and an OperationOutcome naming what was wrong."""

    def __init__(self, status: int, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.expression = expression


class PreconditionFailed(ServiceError):
    """412: required FHIR data could be neither prefetched nor fetched (CDS Hooks 2.0)."""

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(412, message, expression)


def operation_outcome(status: int, message: str, expression: str | None = None) -> dict:
    issue: dict = {"severity": "error", "code": _ISSUE_CODES.get(status, "exception"),
                   "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_response(status: int, message: str, expression: str | None = None) -> Response:
    response = jsonify(operation_outcome(status, message, expression))
    response.status_code = status
    return response


# The one answer to every authentication failure: the same for all reasons (the audit log has the reason),
# typed JSON like every other error (audit issue 13: it was an empty text/html body).
UNAUTHORIZED_BODY = {"resourceType": "OperationOutcome",
                     "issue": [{"severity": "error", "code": "login", "diagnostics": "Authentication failed."}]}


def unauthorized() -> Response:
    response = jsonify(UNAUTHORIZED_BODY)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        return error_response(error.status, error.message, error.expression)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 401:  # authentication failures carry no detail (CDS Hooks best practice)
            return unauthorized()
        messages = {
            404: "No such endpoint or CDS service.",
            405: "Method not allowed on this endpoint.",
            413: "Request body too large.",
            415: "Request body must be JSON (Content-Type: application/json).",
        }
        return error_response(status, messages.get(status, error.description or error.name))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error: %s", type(error).__name__)
        return error_response(500, "Internal error; the request was not processed.")
