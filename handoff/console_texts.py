"""The console's own texts per language: every area file of handoff/texts/<lang>/ merged into one mapping."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
DEFAULT_LANGUAGE = "en"
# The console's languages, each named the way its operators name it, and its writing direction.
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "ar": "العربية", "fa": "فارسی"}
RIGHT_TO_LEFT = frozenset({"ar", "fa"})

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class TextsUnreadable(ValueError):
    """An area file is missing its mapping, or holds something that is not `name: text`."""


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def load_language(language: str, root: Path = TEXTS_DIR) -> dict[str, str]:
    """`<area>.<name>` -> text for one language, from all its area files; read on each call, so an
    edited file needs no restart."""
    texts: dict[str, str] = {}
    for path in sorted((root / language).glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
        if not isinstance(raw, dict):
            raise TextsUnreadable(f"{path}: a mapping of name: text expected")
        for name, text in raw.items():
            if not isinstance(name, str) or not isinstance(text, str):
                raise TextsUnreadable(f"{path}: {name!r} is not a name with a text")
            texts[f"{path.stem}.{name}"] = text
    return texts


def texts_for(language: str, root: Path = TEXTS_DIR) -> dict[str, str]:
    """A language's texts over the English ones, so a text not yet translated shows in English."""
    merged = load_language(DEFAULT_LANGUAGE, root)
    if language != DEFAULT_LANGUAGE:
        merged.update(load_language(language, root))
    return merged
