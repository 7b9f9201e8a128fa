"""The card data directory (`cards/`): Jinja2 templates and YAML (sources, topics, options, rule texts).

Located at the repository's top-level `cards/` unless NET_CDS_DATA_DIR is set (then
`$NET_CDS_DATA_DIR/cards`). Loaded once per directory and cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from cds_service.cards.escape import Markdown, capfirst, join, markdown_value, md_escape, plain_value, trusted


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
    therapies: dict[str, str]
    option_names: dict[str, str]
    fact_sources: dict[str, Any]
    knowledge_base: dict[str, Any]

    def label(self, key: str, escape: bool = True) -> Markdown:
        """Display text of a label key ("msgid" or "msgid with {arg}|arg"), as card markdown.

        The label texts are the project's own; an argument or a key that is not a label came from the
        record, so it is escaped (cards/escape.py). `escape=False`: plain text (extension, explain)."""
        esc = md_escape if escape else str
        msg, sep, arg = key.partition("|")
        if sep and "{arg}" in msg:
            return Markdown(self.labels.get(msg, esc(msg)).replace("{arg}", self._word(arg, esc)))
        if sep and "{0}" in msg:  # several arguments: "{0} ... {1}|a|b"
            text = self.labels.get(msg, esc(msg))
            for i, part in enumerate(arg.split("|")):
                text = text.replace("{" + str(i) + "}", self._word(part, esc))
            return Markdown(text)
        return Markdown(self._word(key, esc))  # plain key, or text from the record that happens to hold a "|"

    def option_name(self, key: str) -> Markdown:
        """The short name of a therapy option (option_names.yaml), else its full text."""
        return self.option_names.get(key) or self.options[key]

    def _word(self, key: str, esc: Callable[[str], str]) -> str:
        return self.labels[key] if key in self.labels else esc(key)

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
        autoescape=False,  # markdown, not HTML: escaping is `finalize`, for markdown and HTML at once
        finalize=markdown_value,  # every printed value escaped unless it is the project's own text
        auto_reload=False,  # templates are loaded once per process: no stat() of each file per card
    )
    env.filters["capfirst"] = capfirst
    env.filters["join"] = join
    labels = _yaml(directory / "labels.yaml") or {}
    data = CardData(
        directory=directory,
        env=env,
        sources=_yaml(directory / "sources.yaml"),
        topics=_yaml(directory / "topics.yaml"),
        options=trusted(_yaml(directory / "options.yaml")),
        rules=trusted(_yaml(directory / "rules.yaml")),
        suggestions=_yaml(directory / "suggestions.yaml"),
        override_reasons=_yaml(directory / "override_reasons.yaml"),
        labels=labels.get("labels") or {},
        therapies=labels.get("therapies") or {},
        option_names=trusted(_yaml(directory / "option_names.yaml") or {}),
        fact_sources=_yaml(directory / "fact_sources.yaml"),
        knowledge_base=_yaml(directory / "knowledge_base.yaml"),
    )
    env.filters["label"] = data.label  # {{ key | label }}: a label's display text (labels.yaml)
    return data


@lru_cache(maxsize=4)
def _summary_env(directory: Path) -> Environment:
    """Summaries are plain text: values from the record lose their markup characters instead."""
    env = Environment(undefined=StrictUndefined, autoescape=False, finalize=plain_value, auto_reload=False)
    env.filters["capfirst"] = capfirst
    return env


@lru_cache(maxsize=256)
def _summary_template(directory: Path, key: str) -> Template:
    data = _load(directory)
    return _summary_env(directory).from_string(str(data.rules[key]["summary"]))


def card_data() -> CardData:
    """The (cached) card data of the configured directory."""
    return _load(cards_dir())
