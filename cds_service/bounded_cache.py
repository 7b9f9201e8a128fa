"""`lru_cache` for functions of texts that come from FHIR data, bounded in bytes as well as in entries.

An lru_cache keyed by text keeps every key it holds: 8,192 entries of a 1 MiB hostile date string would
keep 8 GiB per worker (audit issue 13). Here a call whose text arguments are longer than `max_chars` in
total is computed without the cache, so a cache holds at most about `maxsize * max_chars` characters.
Real codes, systems, dates and short display texts are far below the bound and stay cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def text_cache(maxsize: int, max_chars: int = 256) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(func)

        @functools.wraps(func)
        def call(*args: Any) -> Any:
            if sum(len(a) for a in args if isinstance(a, str)) > max_chars:
                return func(*args)
            return cached(*args)

        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return decorate
