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
from cds_service.services.card_options import CardOptions

DEFINITIONS = Path(__file__).with_name("definitions.yaml")
CDS_HOOKS_VERSION = "2.0.1"
DRAFT_HOOKS = ("order-sign", "order-select")
PATIENT_TOKEN = "{{context.patientId}}"

Handler = Callable[[PatientProfile, CardOptions], list[dict]]


@dataclass(frozen=True)
class PrefetchQuery:
    """One prefetch key: an R4 read or search template, and whether the service cannot run without it."""

    key: str
    resource_type: str
    template: str
    required: bool
    is_read: bool
    codes: tuple[str, ...] = ()  # URL-encoded system|code tokens of a code-only search (no other parameter)
    include: str | None = None  # `_include` added to the fallback search only (definitions.yaml fallback_include)


@dataclass(frozen=True)
class FallbackQuery:
    """One request the fallback sends: a prefetch key's template, or several code-only searches of one type
    merged into a single search with the union of their codes (`code=a,b` is OR in FHIR search)."""

    keys: tuple[str, ...]
    resource_type: str
    template: str
    is_read: bool
    include: str | None = None

    @property
    def label(self) -> str:
        return "+".join(self.keys)

    @property
    def request_template(self) -> str:
        """What is sent first: the template, plus `_include` when the query has one."""
        return f"{self.template}&_include={self.include}" if self.include else self.template


def fallback_queries(queries: list[PrefetchQuery] | tuple[PrefetchQuery, ...]) -> list[FallbackQuery]:
    """The requests that fetch `queries`: code-only searches of one resource type become one search.

    Fewer round trips for the EHR's server and for the hook's latency (BENCHMARKS.md, fallback): labs and
    status are two optional Observation code searches, one request here. The union of the codes returns the
    same resources as the searches together; the profile reads resources, not keys. Required and optional
    keys are never merged, so a required key (pathology) fails only for its own reasons, never because an
    optional one carried too many pages.
    """
    groups: dict[tuple[str, bool], list[PrefetchQuery]] = {}
    for query in queries:
        if query.codes and not query.is_read:
            groups.setdefault((query.resource_type, query.required), []).append(query)
    out: list[FallbackQuery] = []
    for query in queries:
        group = groups.get((query.resource_type, query.required)) if query.codes and not query.is_read else None
        if group is None or len(group) == 1:
            out.append(FallbackQuery((query.key,), query.resource_type, query.template, query.is_read, query.include))
        elif group[0] is query:
            codes = list(dict.fromkeys(code for member in group for code in member.codes))
            template = f"{query.resource_type}?patient={PATIENT_TOKEN}&code=" + ",".join(codes)
            out.append(FallbackQuery(tuple(m.key for m in group), query.resource_type, template, False))
    return out


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str
    queries: tuple[PrefetchQuery, ...]

    @property
    def takes_drafts(self) -> bool:
        """The hook's context carries draftOrders (order-sign, order-select)."""
        return self.hook in DRAFT_HOOKS

    def discovery(self, extension: dict | None = None) -> dict:
        """This service's entry in the discovery response (`version`: the CDS Hooks version implemented,
        the 3.0 ballot's field, which 2.0 clients accept as an extra field)."""
        entry = {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "usageRequirements": self.usage_requirements,
            "version": CDS_HOOKS_VERSION,
            "prefetch": {q.key: q.template for q in self.queries},
        }
        if extension:
            entry["extension"] = extension
        return entry


def _query(key: str, spec: dict) -> PrefetchQuery:
    required = bool(spec.get("required"))
    if "read" in spec:
        return PrefetchQuery(key, spec["read"], f"{spec['read']}/{PATIENT_TOKEN}", required, True)
    rtype = spec["search"]
    template = f"{rtype}?patient={PATIENT_TOKEN}"
    codes = tuple(quote(code, safe="") for code in spec.get("codes") or ())
    if codes:
        template += "&code=" + ",".join(codes)
    if spec.get("params"):
        template += "&" + urlencode(spec["params"])
    include = spec.get("fallback_include")
    return PrefetchQuery(key, rtype, template, required, False, () if spec.get("params") else codes,
                         quote(include, safe=":") if include else None)


@cache
def load_services(path: Path = DEFINITIONS) -> dict[str, CdsService]:
    """All services by id, from the definitions file (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    queries = {key: _query(key, spec) for key, spec in data["queries"].items()}
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
    from cds_service.services import order_select, order_sign, patient_view  # noqa: F401  (registers handlers)

    return _HANDLERS[service_id]


__all__ = ["CdsService", "FallbackQuery", "PrefetchQuery", "cds_service", "fallback_queries", "handler_for",
           "load_services"]
