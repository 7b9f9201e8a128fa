"""Allowlisted host names are checked against the addresses they resolve to (audit issue 13, finding 9).

A name on the allowlist could be made to resolve to a metadata, link-local or loopback address (DNS
rebinding); the URL checks only looked at the name. Here the name's resolution is replaced for the test
(socket.getaddrinfo) and a real FHIR-ish server listens on 127.0.0.1: it must see a request only when
the policy allows the address, and the connection goes to the address that was checked.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cds_service.config import Settings
from cds_service.fhir import outbound
from cds_service.fhir.fallback import FetchError, FhirFetcher

NAME = "fhir.rebind.test"


class _Handler(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Handler.seen.append(self.path)
        body = json.dumps({"resourceType": "Patient", "id": "p1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.seen = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _resolving(monkeypatch, address: str) -> None:
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if str(host).rstrip(".") == NAME:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)


def _fetcher(port: int, **overrides: object) -> FhirFetcher:
    base = f"http://{NAME}:{port}/fhir"
    settings = Settings().with_overrides(allowed_fhir_servers=(base,), fhir_timeout=20.0, fhir_total_timeout=30.0,
                                         **overrides)
    return FhirFetcher(base, "ehr-secret-token", settings)


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "224.0.0.1", "0.0.0.0"])
def test_a_name_resolving_to_a_forbidden_address_is_not_called(monkeypatch, server, address):
    _resolving(monkeypatch, address)
    with pytest.raises(FetchError, match="never called"):
        _fetcher(server).read("Patient/p1")


def test_a_name_resolving_to_loopback_is_refused_unless_allowed(monkeypatch, server):
    _resolving(monkeypatch, "127.0.0.1")
    with pytest.raises(FetchError, match="loopback"):
        _fetcher(server).read("Patient/p1")
    assert _Handler.seen == []
    assert _fetcher(server, fhir_allow_loopback=True).read("Patient/p1") == {"resourceType": "Patient", "id": "p1"}
    assert _Handler.seen == ["/fhir/Patient/p1"]  # connected to the checked address, Host still the name


def test_a_loopback_literal_on_the_allowlist_is_called(server):
    base = f"http://127.0.0.1:{server}/fhir"
    settings = Settings().with_overrides(allowed_fhir_servers=(base,), fhir_timeout=20.0)
    assert FhirFetcher(base, None, settings).read("Patient/p1")["id"] == "p1"


def test_the_check_covers_every_address_a_name_has(monkeypatch):
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))])
    with pytest.raises(outbound.AddressBlocked):
        outbound.resolve_checked("ehr.example.org", 443, allow_loopback=False)
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))])
    assert outbound.resolve_checked("ehr.example.org", 443, allow_loopback=False) == "10.0.0.7"


def test_a_jwk_set_url_resolving_to_loopback_is_not_fetched(monkeypatch, server):
    """JWK Set fetches go through the same check (the `jku` or configured URL names a host too)."""
    from cds_service.security.jwks import KeyFetchError, KeyStore

    _resolving(monkeypatch, "127.0.0.1")
    with pytest.raises(KeyFetchError, match="ConnectionError"):
        KeyStore()._fetch(f"http://{NAME}:{server}/jwks.json")
    assert _Handler.seen == []
    with pytest.raises(KeyFetchError, match="not JSON|keys"):  # a loopback literal is called: our server answers
        KeyStore()._fetch(f"http://127.0.0.1:{server}/jwks.json")
    assert _Handler.seen == ["/jwks.json"]
