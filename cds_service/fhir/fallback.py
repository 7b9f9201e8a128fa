"""Fallback queries to the EHR's FHIR server (fhirclient over one pooled session per server, transport.py).

Used for prefetch keys the EHR did not send (or sent as an OperationOutcome). Every request carries
the EHR's bearer token, has a timeout, stays on the allowlisted server (paging `next` links
included) and counts against a per-call budget. Tokens are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from fhirclient.server import FHIRServer

from cds_service import json_codec
from cds_service.config import Settings
from cds_service.fhir.outbound import check_fhir_url, is_under
from cds_service.fhir.transport import (
    AnswersTooLarge,
    CallDeadlinePassed,
    CallLimits,
    FhirSession,
    OffBaseRequest,
    blocked_address,
    current_call,
)

log = logging.getLogger(__name__)


# Sent with every search and paging request:
# - Prefer: handling=strict: a search parameter the server does not know must fail, not be ignored
#   (FHIR R4 §3.1.1.5.6; a lenient server that dropped `patient` would return every patient's data).
# - Cache-Control: no-cache: HAPI FHIR (the public sandbox's defaults) answers a search repeated within 60 s
#   from its search cache, so a result filed a moment ago would be missing from the cards; no-cache makes it
#   search again (docs/fhir-servers.md, "What the real servers revealed").
SEARCH_HEADERS = {"Prefer": "handling=strict", "Cache-Control": "no-cache"}


class FetchError(Exception):
    """A fallback query failed; the message names the query, never the token."""


_servers: dict[tuple[str, float, bool], FHIRServer] = {}
_servers_lock = threading.Lock()


def _server(base_url: str, settings: Settings) -> FHIRServer:
    """One fhirclient FHIRServer (and so one connection pool) per base URL, reused across requests."""
    key = (base_url, settings.fhir_timeout, settings.fhir_allow_loopback)
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = FHIRServer(None, base_uri=base_url)
            server.session = FhirSession(base_url, settings.fhir_timeout, settings.fhir_workers,
                                             settings.fhir_allow_loopback)
            _servers[key] = server
        return server


@dataclass
class FhirFetcher:
    """Queries one FHIR server on behalf of one hook call."""

    base_url: str
    access_token: str | None
    settings: Settings
    deadline: float | None = None  # time.monotonic() by which the call's FHIR work stops (None: fhir_total_timeout)
    requests_made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_fhir_url(self.base_url, self.settings)
        self._server = _server(self.base_url, self.settings)
        deadline = self.deadline if self.deadline is not None else time.monotonic() + self.settings.fhir_total_timeout
        self.limits = CallLimits(deadline, self.settings.fhir_max_call_bytes, self.settings.fhir_max_resources)

    def _count(self) -> None:
        with self._lock:
            if self.requests_made >= self.settings.fhir_query_budget:
                raise FetchError("FHIR query budget for this call is exhausted")
            self.requests_made += 1

    def _get_json(self, path_or_url: str, what: str, search: bool = False) -> dict:
        if not is_under(self.base_url, urljoin(self._server.base_uri, path_or_url)):
            raise FetchError(f"{what}: a URL outside the FHIR base was not requested")
        if time.monotonic() > self.limits.deadline:  # the work stops at the deadline, not only the wait for it
            raise FetchError(f"{what}: not requested, the call's {self.settings.fhir_total_timeout} s for FHIR passed")
        self._count()
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        if search:
            headers.update(SEARCH_HEADERS)
        current_call.limits = self.limits
        try:
            content = self._server.request_data(path_or_url, headers=headers)
            data = json_codec.loads(content)
        except AnswersTooLarge as exc:
            raise FetchError(f"{what}: the FHIR server's {exc}") from exc
        except CallDeadlinePassed as exc:
            raise FetchError(f"{what}: {exc}") from exc
        except requests.Timeout as exc:
            raise FetchError(f"{what}: the FHIR server did not answer within {self.settings.fhir_timeout} s") from exc
        except OffBaseRequest as exc:
            raise FetchError(f"{what}: a URL outside the FHIR base was not requested") from exc
        except requests.ConnectionError as exc:
            blocked = blocked_address(exc)
            if blocked is not None:
                raise FetchError(f"{what}: not requested, {blocked}") from exc
            raise FetchError(f"{what}: the FHIR server could not be reached") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            reason = _diagnostics(exc.response) if exc.response is not None and status == 400 else ""
            raise FetchError(f"{what}: the FHIR server answered HTTP {status}{reason}") from exc
        except Exception as exc:  # fhirclient's own 401/403/404 exceptions, bad JSON, redirects
            status = getattr(getattr(exc, "response", None), "status_code", None)
            detail = f"HTTP {status}" if status else type(exc).__name__
            raise FetchError(f"{what}: the FHIR server request failed ({detail})") from exc
        finally:
            current_call.limits = None
        if not isinstance(data, dict):
            raise FetchError(f"{what}: the FHIR server did not return a JSON object")
        return data

    def read(self, path: str) -> dict | None:
        """One resource by relative path ("Patient/123"); None when the server says 404."""
        try:
            data = self._get_json(path, path.split("/")[0])
        except FetchError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        if data.get("resourceType") == "OperationOutcome":
            raise FetchError(f"{path.split('/')[0]}: the FHIR server returned an OperationOutcome")
        return data

    def search(self, query: str, max_pages: int | None = None) -> list[dict]:
        """All resources of a search, following `next` pages up to `max_pages` (default: the configured bound)."""
        max_pages = max_pages or self.settings.fhir_max_pages
        what = query.split("?")[0]
        if self.settings.fhir_page_size > 0 and "_count=" not in query:
            query += ("&" if "?" in query else "?") + f"_count={self.settings.fhir_page_size}"
        bundle = self._get_json(query, what, search=True)
        resources: list[dict] = []
        pages = 1
        while True:
            if bundle.get("resourceType") == "OperationOutcome":
                raise FetchError(f"{what}: the FHIR server returned an OperationOutcome")
            if bundle.get("resourceType") != "Bundle":
                raise FetchError(f"{what}: the FHIR server did not return a Bundle")
            entries, links = bundle.get("entry") or [], bundle.get("link") or []
            if not isinstance(entries, list) or not isinstance(links, list):
                raise FetchError(f"{what}: the FHIR server's Bundle has no readable entry or link list")
            _check_no_ignored_parameters(entries, what)
            if not self.limits.take_resources(len(entries)):
                raise FetchError(f"{what}: more than {self.settings.fhir_max_resources} resources for this call")
            for entry in entries:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") != "OperationOutcome":
                    resources.append(resource)
            next_url = next((link.get("url") for link in links
                             if isinstance(link, dict) and link.get("relation") == "next"), None)
            if not next_url:
                return resources
            if not isinstance(next_url, str):
                raise FetchError(f"{what}: the FHIR server's paging link is not a URL")
            next_url = urljoin(self._server.base_uri, next_url)
            if not is_under(self.base_url, next_url):
                raise FetchError(f"{what}: a paging link leaves the FHIR server; not followed")
            if pages >= max_pages:
                raise FetchError(f"{what}: more than {max_pages} pages of results")
            bundle = self._get_json(next_url, what, search=True)
            pages += 1


def _diagnostics(response: requests.Response, limit: int = 160) -> str:
    """': <first issue's diagnostics>' from an OperationOutcome answer (shortened), or ''."""
    try:
        issues = response.json().get("issue") or []
        text = str(issues[0].get("diagnostics") or "").strip()
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""
    return f": {text[:limit]}" if text else ""


def _check_no_ignored_parameters(entries: list, what: str) -> None:
    """A lenient server may drop a search parameter it does not support and say so in an OperationOutcome
    entry (search.mode = outcome). Ignoring `patient` would return every patient's data: fail instead."""
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
            continue
        issues = resource.get("issue")
        for issue in issues if isinstance(issues, list) else ():
            if isinstance(issue, dict) and issue.get("code") == "not-supported":
                detail = str(issue.get("diagnostics") or "a search parameter was not supported")[:160]
                raise FetchError(f"{what}: the FHIR server ignored part of the search ({detail})")
