"""The outbound guard: the service only ever calls FHIR servers on the configured allowlist.

A CDS service holds access tokens inside the clinical network; it must never become a proxy that a
request can point at an arbitrary host (link-local cloud metadata, internal admin pages, ...).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from cds_service.config import Settings


class OutboundBlocked(Exception):
    """The URL is not one this service may call. The message is safe to show the caller."""


_HOST = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$")
_IPV6 = re.compile(r"^\[[0-9a-f:.]+\]$")
_NETLOC = re.compile(r"^(?P<host>[^:@\[\]]+|\[[^\]@]*\])(?::(?P<port>[0-9]{1,5}))?$")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)
_AMBIGUOUS_PATH = re.compile(r";|%2f|%5c|%2e", re.IGNORECASE)
_METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                             "instance-data.ec2.internal"})
_METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _normalise(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path/) of a URL, refusing anything two URL parsers could read differently:
    userinfo, backslashes, whitespace or control characters, percent-encoded or odd hosts, dot segments."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        raise OutboundBlocked("fhirServer contains characters not allowed in a FHIR base URL.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundBlocked("fhirServer must be an http(s) URL.")
    netloc = _NETLOC.match(parts.netloc)
    if not netloc:
        raise OutboundBlocked("fhirServer must be scheme://host[:port]/path, without credentials.")
    host = netloc["host"].lower().rstrip(".")
    if not (_HOST.match(host) or _IPV6.match(host)):
        raise OutboundBlocked("fhirServer has an invalid host name.")
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError as exc:
        raise OutboundBlocked("fhirServer has an invalid port.") from exc
    if _DOT_SEGMENT.search(parts.path):
        raise OutboundBlocked("fhirServer must not contain '.' or '..' path segments.")
    if _AMBIGUOUS_PATH.search(parts.path):
        # `..;/` and `..%2f` are `../` to Tomcat, Jetty and some proxies: the token would leave the base path
        raise OutboundBlocked("fhirServer must not contain ';' or percent-encoded '/', '\\' or '.' in its path.")
    path = parts.path.rstrip("/") + "/"
    return scheme, host, port, path


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host name spells, including legacy IPv4 forms (2852039166, 0xa9.0376.43518)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _is_forbidden_host(host: str) -> bool:
    """Link-local and metadata addresses are never called, even if someone allowlisted them."""
    if host.rstrip(".") in _METADATA_HOSTS:
        return True
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        elif address.sixtofour is not None:
            address = address.sixtofour
    return (address in _METADATA_ADDRESSES or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved)


def check_fhir_url(url: str, settings: Settings) -> None:
    """Raise OutboundBlocked unless `url` lies under one of the allowlisted FHIR base URLs."""
    if not isinstance(url, str) or not url:
        raise OutboundBlocked("fhirServer is missing.")
    if "?" in url or "#" in url:  # a base with a query or fragment sends every search to its root path
        raise OutboundBlocked("fhirServer must be a base URL without '?' or '#'.")
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
    """Whether `url` (a paging `next` link, any URL the EHR's token is about to be sent to) stays on the
    server `base_url` and under its path, with no segment a server could read as a way out of it."""
    try:
        b = _normalise(base_url)
        u = _normalise(url)
    except OutboundBlocked:
        return False
    return b[:3] == u[:3] and u[3].startswith(b[3])


class AddressBlocked(OSError):
    """A FHIR server's host name resolved to an address the service may not call (DNS rebinding)."""


def resolve_checked(host: str, port: int, allow_loopback: bool) -> str:
    """The address to connect to for an allowlisted `host`, resolved once and checked (audit issue 13: a name
    on the allowlist could be made to resolve to a metadata, link-local or loopback address).

    Every address the name resolves to must pass: never link-local, metadata, multicast, unspecified or
    reserved; loopback only when the allowlisted host is itself loopback or `allow_loopback`
    (NET_CDS_FHIR_ALLOW_LOOPBACK). The connection is then made to the address that was checked, so a second
    lookup cannot answer differently."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    loopback_host = host.rstrip(".").lower() == "localhost" or _is_loopback_literal(host)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if _is_forbidden_host(str(address)):
            raise AddressBlocked(f"{host} resolves to an address that is never called")
        plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
        if plain.is_loopback and not (loopback_host or allow_loopback):
            raise AddressBlocked(f"{host} resolves to a loopback address (NET_CDS_FHIR_ALLOW_LOOPBACK is off)")
    if not addresses:
        raise AddressBlocked(f"{host} does not resolve")
    return addresses[0]


def _is_loopback_literal(host: str) -> bool:
    address = _address(host)
    return address is not None and address.is_loopback
