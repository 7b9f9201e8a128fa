"""The outbound guard: the service only ever calls FHIR servers on the configured allowlist.

A CDS service holds access tokens inside the clinical network; it must never become a proxy that a
request can point at an arbitrary host (link-local cloud metadata, internal admin pages, ...).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cds_service.config import Settings


class OutboundBlocked(Exception):
    """The URL is not one this service may call. The message is safe to show the caller."""


def _normalise(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError as exc:
        raise OutboundBlocked("fhirServer has an invalid port.") from exc
    path = parts.path.rstrip("/") + "/"
    return scheme, host, port, path


def _is_forbidden_host(host: str) -> bool:
    """Link-local and metadata addresses are never called, even if someone allowlisted them."""
    if host in ("metadata.google.internal", "metadata"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved


def check_fhir_url(url: str, settings: Settings) -> None:
    """Raise OutboundBlocked unless `url` lies under one of the allowlisted FHIR base URLs."""
    if not isinstance(url, str) or not url:
        raise OutboundBlocked("fhirServer is missing.")
    scheme, host, port, path = _normalise(url)
    if scheme not in ("http", "https") or not host:
        raise OutboundBlocked("fhirServer must be an http(s) URL.")
    if settings.require_https_fhir and scheme != "https":
        raise OutboundBlocked("fhirServer must use https.")
    if _is_forbidden_host(host):
        raise OutboundBlocked("fhirServer is not an allowed FHIR server.")
    for allowed in settings.allowed_fhir_servers:
        a_scheme, a_host, a_port, a_path = _normalise(allowed)
        if (scheme, host, port) == (a_scheme, a_host, a_port) and path.startswith(a_path):
            return
    raise OutboundBlocked("fhirServer is not an allowed FHIR server for this service.")


def is_under(base_url: str, url: str) -> bool:
    """Whether `url` (e.g. a paging `next` link) stays on the server `base_url`."""
    try:
        b = _normalise(base_url)
        u = _normalise(url)
    except OutboundBlocked:
        return False
    return b[:3] == u[:3] and u[3].startswith(b[3])
