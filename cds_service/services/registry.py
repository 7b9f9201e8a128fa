"""The registry of CDS services: definitions from definitions.yaml, handlers by decorator.

Like HAPI FHIR's @CdsService: a service is declared (id, hook, title, prefetch) as data and
implemented as a plain function from the patient's data to cards; data access happens once, centrally.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode

import yaml

from cds_service.profile.model import PatientProfile

DEFINITIONS = Path(__file__).with_name("definitions.yaml")
PATIENT_TOKEN = "{{context.patientId}}"

Handler = Callable[[PatientProfile], list[dict]]


@dataclass(frozen=True)
class PrefetchQuery:
    """One prefetch key: an R4 read or search template, and whether the service cannot run without it."""

    key: str
    resource_type: str
    template: str
    required: bool
    is_read: bool


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str
    queries: tuple[PrefetchQuery, ...]

    def discovery(self) -> dict:
        """This service's entry in the discovery response."""
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "usageRequirements": self.usage_requirements,
            "prefetch": {q.key: q.template for q in self.queries},
        }


def _template(spec: dict) -> tuple[str, str, bool]:
    if "read" in spec:
        return spec["read"], f"{spec['read']}/{PATIENT_TOKEN}", True
    rtype = spec["search"]
    query = f"{rtype}?patient={PATIENT_TOKEN}"
    if spec.get("codes"):
        query += "&code=" + ",".join(quote(code, safe="") for code in spec["codes"])
    if spec.get("params"):
        query += "&" + urlencode(spec["params"])
    return rtype, query, False


@cache
def load_services(path: Path = DEFINITIONS) -> dict[str, CdsService]:
    """All services by id, from the definitions file (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    queries: dict[str, PrefetchQuery] = {}
    for key, spec in data["queries"].items():
        rtype, template, is_read = _template(spec)
        queries[key] = PrefetchQuery(key, rtype, template, bool(spec.get("required")), is_read)
    services = {}
    for item in data["services"]:
        services[item["id"]] = CdsService(
            id=item["id"], hook=item["hook"], title=item["title"], description=item["description"],
            usage_requirements=item["usageRequirements"],
            queries=tuple(queries[key] for key in item["queries"]),
        )
    return services


_HANDLERS: dict[str, Handler] = {}


def cds_service(service_id: str) -> Callable[[Handler], Handler]:
    """Register the function that turns a patient profile into cards for one service."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[service_id] = handler
        return handler

    return register


def handler_for(service_id: str) -> Handler:
    from cds_service.services import order_sign, patient_view  # noqa: F401  (registers handlers)

    return _HANDLERS[service_id]


__all__ = ["CdsService", "PrefetchQuery", "cds_service", "handler_for", "load_services"]
