"""The embedded default: synthetic NET patients (FHIR Bundles) in samples/, listed in samples/index.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


def list_samples(settings: Settings | None = None) -> list[Sample]:
    """The sample patients, in index order (files not in the index are listed after, by name)."""
    folder = samples_dir(settings)
    index_file = folder / "index.yaml"
    index = yaml.safe_load(index_file.read_text(encoding="utf-8")) if index_file.exists() else None
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
