"""Fallback queries to the EHR's FHIR server (fhirclient over one pooled requests session per server).

Used for prefetch keys the EHR did not send (or sent as an OperationOutcome). Every request carries
the EHR's bearer token, has a timeout, stays on the allowlisted server (paging `next` links
included) and counts against a per-call budget. Tokens are never logged.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from fhirclient.server import FHIRServer
from requests.adapters import HTTPAdapter

from cds_service import json_codec
from cds_service.config import Settings
from cds_service.fhir.outbound import check_fhir_url, is_under

log = logging.getLogger(__name__)


class FetchError(Exception):
    """A fallback query failed; the message names the query, never the token."""


MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # one page of FHIR JSON; more is refused, not buffered


class _TimeoutSession(requests.Session):
    """A session whose requests never follow redirects (they could leave the server) and always end in time.

    `timeout` bounds the whole request, not just each socket read: the body is streamed and a server that
    trickles bytes is cut off at the deadline, so a worker thread is never held longer than that (the
    response headers themselves are bounded per read only, by requests' read timeout).
    """

    def __init__(self, base_url: str, timeout: float, pool_size: int) -> None:
        super().__init__()
        self.base_url = base_url
        self.timeout = timeout
        self.max_redirects = 0
        _environment_read_once(self)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4), max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method, url, **kwargs):  # type: ignore[override]
        deadline = time.monotonic() + self.timeout
        kwargs.setdefault("timeout", self.timeout)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        response = super().request(method, url, **kwargs)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in _chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise requests.exceptions.ContentDecodingError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise requests.exceptions.ReadTimeout(f"response not complete within {self.timeout} s")
            response._content = b"".join(chunks)  # what requests does when not streaming
        finally:
            response.close()
        return response


    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        """The last check before the EHR's token goes out: the URL as it will be sent (after requests'
        own normalisation) lies under this session's FHIR base (audit issue 13, finding 4)."""
        if not is_under(self.base_url, request.url or ""):
            raise OffBaseRequest("a URL outside the FHIR base was not requested")
        return super().send(request, **kwargs)


class OffBaseRequest(requests.RequestException):
    """A request that would have left the FHIR base path; it was not sent."""


def _environment_read_once(session: requests.Session) -> None:
    """Read requests' environment settings once, not on every request (performance, BENCHMARKS.md).

    With `trust_env` on, requests scans the whole environment for proxy variables, looks for a .netrc and
    re-reads the CA bundle variables on every call: ~0.15 of its ~0.5 ms of CPU per FHIR request, and the
    fallback's parallel requests queue for that CPU. When no proxy is configured the session takes the CA
    bundle (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE) now and stops reading the environment; a .netrc is never
    used (the EHR's bearer token is the only credential sent). With a proxy configured, requests keeps
    handling it (and no_proxy) itself.
    """
    if any(key.lower().endswith("_proxy") for key in os.environ):
        return
    session.trust_env = False
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: urllib3 2's read1 returns what is there instead of waiting for a full chunk
    (iter_content would wait for 64 KiB, byte by trickled byte)."""
    raw = response.raw
    if hasattr(raw, "read1"):
        while chunk := raw.read1(64 * 1024, decode_content=True):
            yield chunk
    else:  # urllib3 1.x
        yield from response.iter_content(1024)


_servers: dict[tuple[str, float], FHIRServer] = {}
_servers_lock = threading.Lock()


def _server(base_url: str, settings: Settings) -> FHIRServer:
    """One fhirclient FHIRServer (and so one connection pool) per base URL, reused across requests."""
    key = (base_url, settings.fhir_timeout)
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = FHIRServer(None, base_uri=base_url)
            server.session = _TimeoutSession(base_url, settings.fhir_timeout, settings.fhir_workers)
            _servers[key] = server
        return server


@dataclass
class FhirFetcher:
    """Queries one FHIR server on behalf of one hook call."""

    base_url: str
    access_token: str | None
    settings: Settings
    requests_made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_fhir_url(self.base_url, self.settings)
        self._server = _server(self.base_url, self.settings)

    def _count(self) -> None:
        with self._lock:
            if self.requests_made >= self.settings.fhir_query_budget:
                raise FetchError("FHIR query budget for this call is exhausted")
            self.requests_made += 1

    def _get_json(self, path_or_url: str, what: str, search: bool = False) -> dict:
        if not is_under(self.base_url, urljoin(self._server.base_uri, path_or_url)):
            raise FetchError(f"{what}: a URL outside the FHIR base was not requested")
        self._count()
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        if search:  # a search parameter the server does not know must fail, not be ignored (FHIR R4 §3.1.1.5.6)
            headers["Prefer"] = "handling=strict"
        try:
            content = self._server.request_data(path_or_url, headers=headers)
            data = json_codec.loads(content)
        except requests.Timeout as exc:
            raise FetchError(f"{what}: the FHIR server did not answer within {self.settings.fhir_timeout} s") from exc
        except OffBaseRequest as exc:
            raise FetchError(f"{what}: a URL outside the FHIR base was not requested") from exc
        except requests.ConnectionError as exc:
            raise FetchError(f"{what}: the FHIR server could not be reached") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            reason = _diagnostics(exc.response) if exc.response is not None and status == 400 else ""
            raise FetchError(f"{what}: the FHIR server answered HTTP {status}{reason}") from exc
        except Exception as exc:  # fhirclient's own 401/403/404 exceptions, bad JSON, redirects
            status = getattr(getattr(exc, "response", None), "status_code", None)
            detail = f"HTTP {status}" if status else type(exc).__name__
            raise FetchError(f"{what}: the FHIR server request failed ({detail})") from exc
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
            _check_no_ignored_parameters(bundle, what)
            for entry in bundle.get("entry") or ():
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") != "OperationOutcome":
                    resources.append(resource)
            next_url = next((link.get("url") for link in bundle.get("link") or ()
                             if isinstance(link, dict) and link.get("relation") == "next"), None)
            if not next_url:
                return resources
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


def _check_no_ignored_parameters(bundle: dict, what: str) -> None:
    """A lenient server may drop a search parameter it does not support and say so in an OperationOutcome
    entry (search.mode = outcome). Ignoring `patient` would return every patient's data: fail instead."""
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
            continue
        for issue in resource.get("issue") or ():
            if isinstance(issue, dict) and issue.get("code") == "not-supported":
                detail = str(issue.get("diagnostics") or "a search parameter was not supported")[:160]
                raise FetchError(f"{what}: the FHIR server ignored part of the search ({detail})")
