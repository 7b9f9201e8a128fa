"""Pause the cyclic garbage collector while hook requests run (performance; see BENCHMARKS.md)."""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import Any

from flask import Response

_gc_lock = threading.Lock()
_gc_running = 0  # requests in progress in this process
_gc_resume = True  # whether the collector was on when the first of them started
_gc_served = 0  # requests finished in this process
_GC_FREEZE_AFTER = frozenset({1, 10, 100})  # requests after which long-lived objects are frozen


def gc_deferred(view: Callable[..., Response]) -> Callable[..., Response]:
    """Run `view` with the cyclic garbage collector paused (performance only; see BENCHMARKS.md).

    Parsing a large prefetch allocates hundreds of thousands of dicts and lists, all alive until the
    response is built; the generational GC would scan them again and again (a 5,000-resource body
    parses 4x slower with it on). Request garbage is freed by reference counting when the request
    ends; the collector resumes as soon as no request is running and catches any cycles then.

    After the 1st, 10th and 100th request the process's long-lived objects (modules, FHIR models,
    mappings, templates, loaded lazily by the first calls) are collected once and then frozen
    (gc.freeze), so the periodic full collections no longer scan them: such a collection took
    50-70 ms of one request in every few dozen before.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        global _gc_running, _gc_resume, _gc_served
        with _gc_lock:
            if _gc_running == 0:
                _gc_resume = gc.isenabled()
                gc.disable()
            _gc_running += 1
        try:
            return view(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_running -= 1
                _gc_served += 1
                if _gc_running == 0 and _gc_served in _GC_FREEZE_AFTER:
                    gc.collect()
                    gc.freeze()
                if _gc_running == 0 and _gc_resume:
                    gc.enable()

    return wrapper
