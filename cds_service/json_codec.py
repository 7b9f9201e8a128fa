"""JSON in and out of the service: orjson where it is fast, the standard library where orjson says no.

A 500-resource prefetch (367 KiB) parses in ~0.5 ms with orjson against ~1.7 ms with `json`, and its
key cache allocates fewer strings (BENCHMARKS.md). orjson refuses a few things `json` accepts (lone
UTF-16 surrogates in `\\u` escapes, NaN/Infinity): any body orjson refuses is parsed again with
`json`, so the service accepts what it accepted before and rejects the same bodies with the same
error. One difference is kept: an integer beyond 64 bits reads as the nearest float (no FHIR number
is that big; FHIR integers are 32-bit and the profile reads values as floats). Integers too big for a
float (orjson refuses them, `json` reads them) are read as Python integers; the profile's readers treat
them as unreadable values. JSON nested deeper than both parsers allow is a ValueError, like any other
JSON that cannot be read (audit issue 13: it was a RecursionError and a 500).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider


def loads(raw: bytes | str) -> Any:
    """Parse JSON; ValueError (incl. UnicodeDecodeError) for what is not JSON, as `json.loads` raises."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)  # the stdlib decides: it accepts lone surrogates and NaN, or raises the usual error
    except RecursionError as exc:  # nested deeper than orjson's 1,024 levels and the interpreter's stack
        raise ValueError("JSON nested too deeply") from exc


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps_bytes(value: Any, *, sort_keys: bool = False, default: Callable[[Any], Any] = str) -> bytes:
    """Compact UTF-8 JSON. Dates and dataclasses go to `default`, as with `json.dumps`."""
    option = _PASSTHROUGH | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(value, option=option, default=default)
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits: let `json` write them
        return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), default=default).encode()


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson doing the work; same output rules (sorted keys, compact, Flask's
    conversions of dates, decimals, UUIDs and dataclasses); UTF-8 instead of ASCII escapes."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # callers asking for json.dumps options get json.dumps
            return super().dumps(obj, **kwargs)
        return dumps_bytes(obj, sort_keys=self.sort_keys, default=self.default).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(dumps_bytes(obj, sort_keys=self.sort_keys, default=self.default) + b"\n",
                                         mimetype=self.mimetype)
