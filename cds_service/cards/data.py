"""The card data directory (`cards/`): Jinja2 templates and YAML (sources, topics, options, rule texts).

Located at the repository's top-level `cards/` unless NET_CDS_DATA_DIR is set (then
`$NET_CDS_DATA_DIR/cards`). Loaded once per directory and cached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template


def cards_dir() -> Path:
    base = os.environ.get("NET_CDS_DATA_DIR")
    if base:
        return Path(base) / "cards"
    return Path(__file__).resolve().parents[2] / "cards"


@dataclass(frozen=True)
class CardData:
    directory: Path
    env: Environment
    sources: dict[str, dict[str, str]]
    topics: dict[str, Any]
    options: dict[str, str]
    rules: dict[str, dict[str, str]]
    suggestions: dict[str, dict[str, Any]]
    override_reasons: dict[str, Any]
    labels: dict[str, str]

    def label(self, key: str) -> str:
        """Display text of a label key ("msgid" or "msgid with {arg}|arg"); unknown keys show as is."""
        msg, sep, arg = key.partition("|")
        if sep and "{arg}" in msg:
            return self.labels.get(msg, msg).replace("{arg}", self.labels.get(arg, arg))
        if sep and "{0}" in msg:  # several arguments: "{0} ... {1}|a|b"
            text = self.labels.get(msg, msg)
            for i, part in enumerate(arg.split("|")):
                text = text.replace("{" + str(i) + "}", self.labels.get(part, part))
            return text
        return self.labels.get(key, key)  # plain key, or text from the record that happens to hold a "|"

    def summary_template(self, key: str) -> Template:
        return _summary_template(self.directory, key)


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=4)
def _load(directory: Path) -> CardData:
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # markdown, not HTML; values come from the profile, not from users
        auto_reload=False,  # templates are loaded once per process: no stat() of each file per card
    )
    env.filters["capfirst"] = lambda text: str(text)[:1].upper() + str(text)[1:]
    data = CardData(
        directory=directory,
        env=env,
        sources=_yaml(directory / "sources.yaml"),
        topics=_yaml(directory / "topics.yaml"),
        options=_yaml(directory / "options.yaml"),
        rules=_yaml(directory / "rules.yaml"),
        suggestions=_yaml(directory / "suggestions.yaml"),
        override_reasons=_yaml(directory / "override_reasons.yaml"),
        labels=(_yaml(directory / "labels.yaml") or {}).get("labels") or {},
    )
    env.filters["label"] = data.label  # a label key as clinicians read it (cards/labels.yaml)
    return data


@lru_cache(maxsize=256)
def _summary_template(directory: Path, key: str) -> Template:
    data = _load(directory)
    return data.env.from_string(data.rules[key]["summary"])


def card_data() -> CardData:
    """The (cached) card data of the configured directory."""
    return _load(cards_dir())
