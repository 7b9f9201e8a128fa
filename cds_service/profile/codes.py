"""Code lists from `mappings/` (net-decision-model.md section 2): loaded once, matched by (system, code).

Each YAML file holds `concepts`, each with `codes` (system, code or prefix, display, status, attributes)
and `text` rules (a case-insensitive regex plus attributes). A file becomes one `CodeIndex`; lookups are
dictionary hits on (system key, normalised code), so reading a 1,000-resource record stays cheap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from cds_service.bounded_cache import text_cache
from cds_service.profile.fhirread import as_dict, as_list, as_str

# mappings/ lives in the data folder (NET_CDS_DATA_DIR, default the checkout; see cds_service/config.py).
MAPPINGS_DIR = Path(os.environ.get("NET_CDS_DATA_DIR", Path(__file__).resolve().parents[2])) / "mappings"
STATUSES = frozenset({"V", "V2", "U", "model", "project"})
_RESERVED = frozenset({"system", "code", "prefix", "display", "status", "note", "pattern", "source"})
_TEXT_CACHE_SIZE = 50_000
_CODINGS_CACHE_SIZE = 4096  # per cache of codings and code matches; cleared when full (EHR codes repeat)
CACHED_CHARS = 256  # longer strings are read uncached, so no cache keeps large request strings alive
_MISSING: Any = object()
_ICDO_RE = re.compile(r"^M?-?(\d{4})/?(\d)$")


@dataclass(frozen=True)
class Entry:
    """One coded entry of a concept list, or one text rule (then `system`/`code` are None)."""

    concept: str
    display: str
    status: str
    system: str | None = None
    code: str | None = None
    prefix: bool = False
    attrs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    note: str | None = None
    pattern: re.Pattern[str] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


Coding = tuple[str | None, str, str | None]  # (system key, normalised code, display)
_CODINGS_CACHE: dict[tuple[Any, ...], tuple[Coding, ...]] = {}  # codings_key -> codings (see `codings`)


class CodeIndex:
    """All concepts of one mapping file, indexed for (system, code), prefix and text lookups."""

    def __init__(self, name: str, entries: Iterable[Entry], text_rules: Mapping[str, tuple[Entry, ...]],
                 extra: Mapping[str, Any]) -> None:
        self.name = name
        self.entries = tuple(entries)
        self.text_rules = dict(text_rules)
        self.extra = extra
        self._exact: dict[tuple[str, str], tuple[Entry, ...]] = {}
        self._prefix: dict[tuple[str, str], tuple[Entry, ...]] = {}
        lengths: set[int] = set()
        for e in self.entries:
            assert e.system is not None and e.code is not None
            target = self._prefix if e.prefix else self._exact
            key = (e.system, e.code)
            target[key] = target.get(key, ()) + (e,)
            if e.prefix:
                lengths.add(len(e.code))
        self._prefix_lengths = tuple(sorted(lengths, reverse=True))
        self._text_cache: dict[tuple[str, str], tuple[Entry, ...]] = {}
        self._first_cache: dict[tuple[Any, ...], Entry | None] = {}
        self._match_cache: dict[tuple[Any, ...], tuple[Entry, ...]] = {}

    def lookup(self, system: str | None, code: str) -> tuple[Entry, ...]:
        """Entries for one coding: exact matches, plus, per concept without an exact match, the longest prefix."""
        if system is None:
            return ()
        hit = self._exact.get((system, code), ())
        if not self._prefix_lengths:
            return hit
        seen = {e.concept for e in hit}
        for n in self._prefix_lengths:
            if len(code) >= n:
                more = [e for e in self._prefix.get((system, code[:n]), ()) if e.concept not in seen]
                if more:
                    hit = hit + tuple(more)
                    seen.update(e.concept for e in more)
        return hit

    def match(self, codings: Iterable[Coding], concept: str | None = None) -> list[Entry]:
        """All entries (optionally of one concept) matching any of the codings."""
        return list(self._matches(codings, concept))

    def first(self, codings: Iterable[Coding], concept: str | None = None) -> Entry | None:
        found = self._matches(codings, concept)
        return found[0] if found else None

    def _matches(self, codings: Iterable[Coding], concept: str | None) -> tuple[Entry, ...]:
        """`match`, cached by (codings, concept). Performance: codes repeat across a record, and a lookup with
        prefixes (ICD-10 in conditions.yaml) takes ~1 us, a cache hit ~0.2 us."""
        key = (tuple(codings), concept)
        try:
            hit = self._match_cache.get(key)
        except TypeError:  # not hashable: not what `codings` returns, read it uncached
            return self._match(key[0], concept)
        if hit is None and any(len(code) > CACHED_CHARS or len(display or "") > CACHED_CHARS
                               for _system, code, display in key[0]):
            return self._match(key[0], concept)
        if hit is None:
            if len(self._match_cache) > _CODINGS_CACHE_SIZE:
                self._match_cache.clear()
            hit = self._match_cache[key] = self._match(key[0], concept)
        return hit

    def _match(self, codings: Iterable[Coding], concept: str | None) -> tuple[Entry, ...]:
        found: list[Entry] = []
        for system, code, _display in codings:
            for e in self.lookup(system, code):
                if concept is None or e.concept == concept:
                    found.append(e)
        return tuple(found)

    def first_of(self, value: Any, concept: str | None = None) -> Entry | None:
        """`first(codings(value), concept)` for a CodeableConcept, cached for the usual single coding.

        Performance: the Observation pass asks once per resource (~350 at 500 resources) about a few dozen
        distinct codes. The answer depends only on the coding's system and code (strings, so 1 and True,
        which hash alike, never share a key); the display is not read, which saves touching it.
        """
        if type(value) is dict:
            raw = value.get("coding")
            if type(raw) is list and len(raw) == 1 and type(raw[0]) is dict:
                system, code = raw[0].get("system"), raw[0].get("code")
                if type(code) is str and (system is None or type(system) is str) and len(code) <= CACHED_CHARS \
                        and len(system or "") <= CACHED_CHARS:
                    key = (system, code, concept)
                    hit = self._first_cache.get(key, _MISSING)
                    if hit is _MISSING:
                        if len(self._first_cache) > _CODINGS_CACHE_SIZE:
                            self._first_cache.clear()
                        hit = self._first_cache[key] = self.first(codings(value), concept)
                    return hit  # type: ignore[no-any-return]  # an Entry or None, by construction
        return self.first(codings(value), concept)

    def text(self, concept: str, text: str) -> Entry | None:
        """The first text rule of `concept` that matches `text` (already lower-cased is fine)."""
        found = self.texts(concept, text)
        return found[0] if found else None

    def texts(self, concept: str, text: str) -> tuple[Entry, ...]:
        """Every text rule of `concept` that matches `text`, in file order (cached: EHR texts repeat)."""
        if not text:
            return ()
        key = (concept, text)
        hit = self._text_cache.get(key)
        if hit is None:
            if len(self._text_cache) > _TEXT_CACHE_SIZE:
                self._text_cache.clear()
            hit = tuple(r for r in self.text_rules.get(concept, ()) if r.pattern is not None and r.pattern.search(text))
            self._text_cache[key] = hit
        return hit


@lru_cache(maxsize=1)
def _systems() -> tuple[dict[str, str], dict[str, str]]:
    """(spelling -> system key, system key -> code style) from mappings/systems.yaml."""
    data = yaml.safe_load((MAPPINGS_DIR / "systems.yaml").read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    styles: dict[str, str] = {}
    for key, spec in data["systems"].items():
        styles[key] = spec.get("code_style", "exact")
        for spelling in [spec["uri"], key, *spec.get("aliases", [])]:
            aliases[_canonical_spelling(spelling)] = key
    return aliases, styles


def _canonical_spelling(system: str) -> str:
    s = system.strip().lower()
    if s.startswith("urn:oid:"):
        s = s[8:]
    s = s.rstrip("/")
    if s.startswith("https://"):
        s = "http://" + s[8:]
    return s.replace("://www.", "://")


def system_key(system: object) -> str | None:
    """The short key ("loinc", "icd-10-cm", ...) of a system URI/OID in any common spelling, or None."""
    if not system or not isinstance(system, str):
        return None
    return _system_key(system)


@text_cache(maxsize=4096)
def _system_key(system: str) -> str | None:
    return _systems()[0].get(_canonical_spelling(system))


@text_cache(maxsize=16384)
def normalize_code(key: str | None, code: str) -> str:
    """A code in the comparison form of its system (ICD-10 without dots, ICD-O-3 as 8240/3, ...)."""
    code = code.strip()
    style = _systems()[1].get(key or "", "exact")
    if style == "icd10":
        return code.upper().replace(".", "")
    if style == "upper":
        return code.upper()
    if style == "icdo3":
        m = _ICDO_RE.match(code.upper().replace(" ", ""))
        return f"{m.group(1)}/{m.group(2)}" if m else code
    return code


def codings(concept: Any) -> list[Coding]:
    """The codings of a CodeableConcept (tolerant: a single coding object, a bare Coding, junk)."""
    # Fast path (performance): a CodeableConcept whose codings are objects of plain strings is read once
    # per distinct (system, code, display) and the answer reused; a 500-resource record asks ~580 times
    # for ~40 distinct concepts. The cached answer is what the tolerant reader returned for that input.
    key = codings_key(concept)
    if key is None:
        return _read_codings(concept)
    hit = _CODINGS_CACHE.get(key)
    if hit is None:
        if len(_CODINGS_CACHE) > _CODINGS_CACHE_SIZE:
            _CODINGS_CACHE.clear()
        hit = _CODINGS_CACHE[key] = tuple(_read_codings(concept))
    return list(hit)


def codings_key(concept: Any) -> tuple[Any, ...] | None:
    """A hashable key of a well-formed CodeableConcept's codings, or None for any other shape.

    Well-formed: an object whose `coding` is a list of objects with a string `code` and a string or
    absent `system` and `display` (only those three fields are read), none longer than CACHED_CHARS.
    Strings only, so 1 and True, which hash alike, never share a key. One coding gives (system, code,
    display), several a tuple of those.
    """
    if type(concept) is not dict:
        return None
    raw = concept.get("coding")
    if type(raw) is not list:
        return None
    if len(raw) == 1:  # the usual case
        return _coding_key(raw[0])
    key = []
    for coding in raw:
        one = _coding_key(coding)
        if one is None:
            return None
        key.append(one)
    return tuple(key)


def _coding_key(coding: Any) -> tuple[str | None, str, str | None] | None:
    if type(coding) is not dict:
        return None
    system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
    if type(code) is not str or (system is not None and type(system) is not str) or (
            display is not None and type(display) is not str):
        return None
    if len(code) > CACHED_CHARS or len(system or "") > CACHED_CHARS or len(display or "") > CACHED_CHARS:
        return None
    return system, code, display


def _read_codings(concept: Any) -> list[Coding]:
    """The tolerant reader behind `codings`."""
    cc = as_dict(concept)
    raw = cc.get("coding") if "coding" in cc else ([cc] if "code" in cc else None)
    out: list[Coding] = []
    for coding in as_list(raw):
        if not isinstance(coding, dict):
            continue
        code = as_str(coding.get("code"))
        if code is None:
            continue
        key = system_key(coding.get("system"))
        out.append((key, normalize_code(key, code), as_str(coding.get("display"))))
    return out


def _load_file(name: str) -> CodeIndex:
    path = MAPPINGS_DIR / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries: list[Entry] = []
    text_rules: dict[str, tuple[Entry, ...]] = {}
    for concept, spec in (data.get("concepts") or {}).items():
        for item in spec.get("codes") or ():
            entries.append(_entry(name, concept, item))
        rules = []
        for item in spec.get("text") or ():
            attrs = {k: v for k, v in item.items() if k not in _RESERVED}
            rules.append(Entry(concept=concept, display=item["pattern"], status="text", attrs=MappingProxyType(attrs),
                               note=item.get("note"), pattern=re.compile(item["pattern"], re.IGNORECASE)))
        text_rules[concept] = tuple(rules)
    extra = MappingProxyType({k: v for k, v in data.items() if k != "concepts"})
    return CodeIndex(name, entries, text_rules, extra)


def _entry(name: str, concept: str, item: dict[str, Any]) -> Entry:
    where = f"mappings/{name}.yaml {concept}: {item}"
    system = item.get("system")
    if system not in _systems()[1]:
        raise ValueError(f"{where}: unknown system {system!r}")
    raw = item.get("code", item.get("prefix"))
    if raw is None or not item.get("display") or item.get("status") not in STATUSES:
        raise ValueError(f"{where}: needs code or prefix, display and a status in {sorted(STATUSES)}")
    attrs = {k: v for k, v in item.items() if k not in _RESERVED}
    return Entry(concept=concept, display=str(item["display"]), status=str(item["status"]), system=system,
                 code=normalize_code(system, str(raw)), prefix="prefix" in item, attrs=MappingProxyType(attrs),
                 note=item.get("note"))


@cache
def index(name: str) -> CodeIndex:
    """The code index of `mappings/<name>.yaml`, loaded once per process."""
    return _load_file(name)


MAPPING_FILES = ("conditions", "observations", "morphology", "imaging", "procedures", "medications")


def load_all() -> dict[str, CodeIndex]:
    """Load (and validate) every mapping file; call at start-up to fail fast on a broken YAML."""
    return {name: index(name) for name in MAPPING_FILES}
