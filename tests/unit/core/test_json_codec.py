"""The orjson codec accepts and rejects exactly what the standard library does, and writes what Flask wrote."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import uuid

import pytest

from cds_service import json_codec
from tests.unit.core.test_request_errors import PV, diagnostics, valid_body

# Bodies orjson refuses but `json` accepts: the service must still read them.
STDLIB_ONLY = [
    b'{"text": "\\ud800"}',  # lone surrogate escape
    b'{"value": NaN}',
]
NOT_JSON = [b"{not json", b'{"a": 1,}', b"\xff\xfe", b"", b'{"a": "unterminated']


@pytest.mark.parametrize("raw", STDLIB_ONLY + [b'{"a": [1, 2.5, "\\u00e9", null, true]}', "{\"k\": \"ü\"}"])
def test_loads_gives_what_json_gives(raw):
    expected = json.loads(raw)
    got = json_codec.loads(raw)
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("raw", NOT_JSON)
def test_loads_rejects_what_json_rejects(raw):
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(ValueError):
        json_codec.loads(raw)


def test_integers_beyond_64_bits_read_as_the_nearest_float():
    """orjson's one difference from `json` that is kept: no FHIR number is that big (integer is 32-bit)."""
    value = json_codec.loads(b'{"value": 123456789012345678901234567890}')["value"]
    assert value == pytest.approx(1.2345678901234568e29)
    assert json_codec.loads(b'{"value": 9223372036854775807}')["value"] == 2**63 - 1


def test_dumps_falls_back_for_big_integers_and_sorts_keys():
    assert json_codec.dumps_bytes({"b": 2**70, "a": 1}, sort_keys=True) == b'{"a":1,"b":1180591620717411303424}'


def test_dumps_writes_unknown_types_through_default():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert json_codec.dumps_bytes({"x": Odd()}) == b'{"x":"odd"}'


@dataclasses.dataclass
class Point:
    x: int


def test_provider_keeps_flasks_conversions(app):
    when = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    ident = uuid.UUID(int=7)
    with app.app_context():
        out = json.loads(app.json.dumps({"when": when, "d": decimal.Decimal("1.50"), "u": ident, "p": Point(3)}))
    assert out == {"when": "Sat, 28 Nov 2026 12:00:00 GMT", "d": "1.50", "u": str(ident), "p": {"x": 3}}


def test_hook_reads_a_prefetch_with_a_huge_integer(client):
    body = valid_body()
    raw = json.dumps(body)[:-1] + ', "extension": {"x": 123456789012345678901234567890}}'
    response = client.post(PV, data=raw, content_type="application/json")
    assert response.status_code != 400, diagnostics(response)


def test_hook_rejects_bad_json_with_400(client):
    response = client.post(PV, data=b'{"hook": "patient-view",}', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in diagnostics(response)


def test_responses_are_utf8_json(client):
    response = client.get("/cds-services")
    assert response.mimetype == "application/json"
    assert json.loads(response.data.decode("utf-8"))["services"]
