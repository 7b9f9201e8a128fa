"""The embedded default: synthetic NET patients (FHIR Bundles) in samples/, listed in samples/index.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from cds_service.config import Settings


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    file: Path
    rules: tuple[str, ...] = ()
    draft: Path | None = None

    def bundle(self) -> dict:
        return json.loads(self.file.read_text(encoding="utf-8"))

    def draft_orders(self) -> dict | None:
        return json.loads(self.draft.read_text(encoding="utf-8")) if self.draft else None


def _resolve(folder: Path, path: str) -> Path:
    """A path from the index, relative to samples/ or (when it starts with samples/) to the data dir."""
    candidate = folder / path
    return candidate if candidate.exists() else folder.parent / path


def samples_dir(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).data_dir / "samples"


def _index(folder: Path) -> object:
    index_file = folder / "index.yaml"
    return yaml.safe_load(index_file.read_text(encoding="utf-8")) if index_file.exists() else None


def sample_set_as_of(settings: Settings | None = None) -> date | None:
    """The date the sample set is written for (`as_of` in samples/index.yaml): the samples are
    evaluated as of it, so the demo gives the same cards on any day. None when it declares none."""
    index = _index(samples_dir(settings))
    value = index.get("as_of") if isinstance(index, dict) else None
    if isinstance(value, date):  # YAML reads an unquoted 2026-11-28 as a date
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def is_sample_file(path: Path, settings: Settings | None = None) -> bool:
    """Whether `path` is one of the sample set's files (a patient Bundle or its draft orders)."""
    folder = samples_dir(settings).resolve()
    return folder in Path(path).resolve().parents


def list_samples(settings: Settings | None = None) -> list[Sample]:
    """The sample patients, in index order (files not in the index are listed after, by name)."""
    folder = samples_dir(settings)
    index = _index(folder)
    entries = index.get("samples", index) if isinstance(index, dict) else (index or [])
    found: list[Sample] = []
    for item in entries:
        if not isinstance(item, dict) or "id" not in item:
            continue
        file = folder / item.get("file", f"{item['id']}.json")
        draft = item.get("draft")
        rules = item.get("rules") or ()
        found.append(Sample(id=str(item["id"]), title=str(item.get("title", "")), file=file,
                            rules=tuple(rules if isinstance(rules, list) else str(rules).split()),
                            draft=_resolve(folder, draft) if draft else None))
    listed = {s.file.name for s in found}
    for file in sorted(folder.glob("*.json")):
        if file.name not in listed:
            found.append(Sample(id=file.stem, title="", file=file))
    return found


def get_sample(sample_id: str, settings: Settings | None = None) -> Sample:
    for sample in list_samples(settings):
        if sample.id == sample_id:
            return sample
    raise KeyError(sample_id)
