"""Texts the core itself sends (holding replies), per language, from a data file."""

from __future__ import annotations

from pathlib import Path

import yaml


class SystemMessages:
    def __init__(self, texts: dict[str, dict[str, str]], default_language: str) -> None:
        self._texts = texts
        self._default = default_language

    def get(self, key: str, language: str, **values: str) -> str:
        """The text in the session's language, else in the default one, with {placeholders} filled."""
        for lang in (language, language.split("-")[0], self._default):
            text = self._texts.get(lang, {}).get(key)
            if text:
                return text.format(**values) if values else text
        raise KeyError(f"system message {key!r} missing for {self._default!r}")


def load_system_messages(path: Path, default_language: str) -> SystemMessages:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return SystemMessages({str(k): dict(v) for k, v in raw.items()}, default_language)
