"""How the EHR's token travels to its FHIR server: one requests session per server that bounds every request.

Each request: no redirects; the whole answer within the per-request timeout and the call's deadline; at
most 32 MiB per answer and the call's byte budget across its parallel requests (CallLimits); the URL,
as it will be sent, under the FHIR base; the connection made to an address the outbound policy approved
when the host name was resolved (DNS rebinding). fallback.py builds the FHIR queries on top of this.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions
import urllib3.util.connection
from requests.adapters import HTTPAdapter

from cds_service.fhir.outbound import AddressBlocked, is_under, resolve_checked

MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # one page of FHIR JSON; more is refused, not buffered


class AnswersTooLarge(requests.RequestException):
    """The FHIR server's answers to one hook call passed the call's byte budget; reading stopped."""


class CallDeadlinePassed(requests.RequestException):
    """The hook call's total FHIR deadline passed while an answer was being read; reading stopped."""


@dataclass
class CallLimits:
    """What one hook call may spend on FHIR answers, shared by its parallel requests (audit issue 13:
    twelve 20 MiB answers raised a worker by up to 1.9 GiB, and work went on past the total deadline)."""

    deadline: float  # time.monotonic() by which every request of the call has ended
    max_bytes: int
    max_resources: int
    received: int = 0
    resources: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_bytes(self, count: int) -> None:
        with self._lock:
            self.received += count
            if self.received > self.max_bytes:
                raise AnswersTooLarge(f"answers larger than {self.max_bytes // (1024 * 1024)} MiB for this call")
        if time.monotonic() > self.deadline:
            raise CallDeadlinePassed("the call's FHIR deadline passed")

    def take_resources(self, count: int) -> bool:
        with self._lock:
            self.resources += count
            return self.resources <= self.max_resources


current_call = threading.local()  # the CallLimits of the request this thread is sending (set by FhirFetcher)


class FhirSession(requests.Session):
    """A session whose requests never follow redirects (they could leave the server) and always end in time.

    `timeout` bounds the whole request, not just each socket read: the body is streamed and a server that
    trickles bytes is cut off at the deadline, so a worker thread is never held longer than that (the
    response headers themselves are bounded per read only, by requests' read timeout).
    """

    def __init__(self, base_url: str, timeout: float, pool_size: int, allow_loopback: bool = False) -> None:
        super().__init__()
        self.base_url = base_url
        self.timeout = timeout
        self.max_redirects = 0
        _environment_read_once(self)
        mount_checked(self, allow_loopback, pool_maxsize=max(pool_size, 4))

    def request(self, method, url, **kwargs):  # type: ignore[override]
        deadline = time.monotonic() + self.timeout
        limits: CallLimits | None = getattr(current_call, "limits", None)
        if limits is not None:
            deadline = min(deadline, limits.deadline)
        kwargs.setdefault("timeout", self.timeout)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        try:
            response = super().request(method, url, **kwargs)
        except requests.ConnectionError as exc:
            # A kept-alive connection the server closed just as it was reused: a GET is safe to send
            # once more, on a new connection, if the deadline allows; anything else is the caller's.
            if method.upper() != "GET" or not _dropped_connection(exc) or time.monotonic() >= deadline:
                raise
            response = super().request(method, url, **kwargs)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in _chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if limits is not None:
                    limits.take_bytes(len(chunk))
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


class _CheckedConnection(urllib3.connection.HTTPConnection):
    """Connects to the address `resolve_checked` approved for the host (the Host header, TLS SNI and the
    certificate check still use the host name)."""

    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        address = resolve_checked(self._dns_host, self.port, self.allow_loopback)
        try:
            sock = urllib3.util.connection.create_connection(
                (address, self.port), self.timeout, source_address=self.source_address,
                socket_options=self.socket_options)
        except TimeoutError as exc:
            raise urllib3.exceptions.ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        return sock


class _CheckedHTTPSConnection(_CheckedConnection, urllib3.connection.HTTPSConnection):
    pass


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter whose connections check the resolved address first (DNS rebinding)."""

    def __init__(self, allow_loopback: bool, **kwargs: Any) -> None:
        self._allow_loopback = allow_loopback
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        loopback = {"allow_loopback": self._allow_loopback}
        http_conn = type("CheckedHTTPConnection", (_CheckedConnection,), loopback)
        https_conn = type("CheckedHTTPSConnection", (_CheckedHTTPSConnection,), loopback)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("CheckedHTTPPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("CheckedHTTPSPool", (urllib3.HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (requests wraps urllib3, which wraps the socket's error)."""
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return
        yield current
        reason = getattr(current, "reason", None)
        current = current.__cause__ or current.__context__ or (reason if isinstance(reason, BaseException) else None)


def mount_checked(session: requests.Session, allow_loopback: bool = False, pool_maxsize: int = 4) -> requests.Session:
    """Make every connection of `session` go to an address checked by `resolve_checked` (DNS rebinding):
    FHIR requests and JWK Set fetches alike, since both go to hosts a request can name."""
    adapter = _CheckedAdapter(allow_loopback, pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def blocked_address(exc: BaseException) -> AddressBlocked | None:
    """The AddressBlocked behind a requests ConnectionError, if that is what it was."""
    return next((c for c in _causes(exc) if isinstance(c, AddressBlocked)), None)


def _dropped_connection(exc: BaseException) -> bool:
    """The server closed or reset the connection before answering (not a refused connect, a timeout or
    a blocked address): what a kept-alive connection closed by the server looks like on reuse."""
    causes = list(_causes(exc))
    return not any(isinstance(c, AddressBlocked) for c in causes) and any(
        isinstance(c, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError) for c in causes)


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
