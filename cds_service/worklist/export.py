"""A FHIR Bulk Data export on disk: a folder of `Type*.ndjson[.gz]` files, or the export's manifest.

The manifest (`manifest.json`, the Bulk Data status response) names several files per type and the
export's `transactionTime`, which is the date the worklist is evaluated as of (never the clock). Its
`url`s are read as paths relative to the manifest's folder: a worklist run never fetches anything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import orjson

NDJSON = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)[^/]*\.ndjson(\.gz)?$")


class ExportError(ValueError):
    """The export cannot be read as a Bulk Data export (the message names the file or field)."""


@dataclass(frozen=True)
class BulkExport:
    """The export's files by resource type, and its transaction time when a manifest gives it."""

    root: Path
    files_by_type: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    transaction_time: str | None = None

    @classmethod
    def open(cls, path: str | Path) -> BulkExport:
        path = Path(path)
        if path.is_dir():
            manifest = path / "manifest.json"
            return cls._from_manifest(manifest) if manifest.is_file() else cls._from_folder(path)
        if path.is_file():
            return cls._from_manifest(path)
        raise ExportError(f"--bulk: {path} is neither a folder nor a manifest file")

    @classmethod
    def _from_folder(cls, folder: Path) -> BulkExport:
        files: dict[str, list[Path]] = {}
        for item in sorted(folder.iterdir()):
            match = NDJSON.match(item.name)
            if match and item.is_file():
                files.setdefault(match["type"], []).append(item)
        if not files:
            raise ExportError(f"--bulk: no Type.ndjson or Type.ndjson.gz files in {folder}")
        return cls(folder, {k: tuple(v) for k, v in files.items()})

    @classmethod
    def _from_manifest(cls, manifest: Path) -> BulkExport:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExportError(f"--bulk: {manifest} is not a JSON manifest ({type(exc).__name__})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("output"), list):
            raise ExportError(f"--bulk: {manifest} has no 'output' list")
        files: dict[str, list[Path]] = {}
        for number, item in enumerate(data["output"]):
            rtype, url = (item.get("type"), item.get("url")) if isinstance(item, dict) else (None, None)
            if not isinstance(rtype, str) or not isinstance(url, str):
                raise ExportError(f"--bulk: output[{number}] needs 'type' and 'url'")
            files.setdefault(rtype, []).append(_local_file(manifest.parent, url, number))
        time = data.get("transactionTime")
        return cls(manifest.parent, {k: tuple(v) for k, v in files.items()}, time if isinstance(time, str) else None)

    @property
    def as_of(self) -> date | None:
        """The export's date (transactionTime's date part), the day its data describe."""
        if not self.transaction_time:
            return None
        try:
            return date.fromisoformat(self.transaction_time[:10])
        except ValueError:
            raise ExportError(f"transactionTime: '{self.transaction_time[:40]}' is not a date") from None

    def types(self) -> list[str]:
        return sorted(self.files_by_type)

    def files(self, rtype: str) -> tuple[Path, ...]:
        return self.files_by_type.get(rtype, ())

    def all_files(self) -> list[Path]:
        return [f for t in self.types() for f in self.files(t)]

    def iter_resources(self, rtype: str) -> Iterator[dict]:
        for path in self.files(rtype):
            yield from read_ndjson(path)

    def fingerprint(self) -> str:
        """sha256 over every file's name and content: the audit record names exactly what was read."""
        digest = hashlib.sha256()
        for path in self.all_files():
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
        return digest.hexdigest()


def _local_file(folder: Path, url: str, number: int) -> Path:
    parsed = urlparse(url)
    name = Path(parsed.path).name if parsed.scheme in ("http", "https", "file") else url
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise ExportError(f"--bulk: output[{number}] file {name!r} is not in {folder}")
    return path


def open_text(path: Path):  # noqa: ANN201 - a binary file object, gzip or plain
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def read_ndjson(path: Path) -> Iterator[dict]:
    """The file's resources; a line that is not a JSON object raises ExportError naming the line."""
    with open_text(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise ExportError(f"{path.name} line {number}: not JSON") from None
            if isinstance(resource, dict):
                yield resource
