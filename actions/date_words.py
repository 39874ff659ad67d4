"""Words customers use for visit days, per language, from actions/data/date_words/<lang>.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from core.textnorm import normalise

DATA_DIR = Path(__file__).resolve().parent / "data" / "date_words"
_RELATIVE = {"today": 0, "tomorrow": 1, "day_after_tomorrow": 2}


@dataclass(frozen=True)
class DateWords:
    relative: tuple[tuple[str, int], ...]  # (phrase, days from today), longest phrase first
    weekdays: tuple[tuple[str, int], ...]  # (phrase, weekday with Monday = 0), longest phrase first


@lru_cache
def date_words(language: str) -> DateWords:
    """The language's words and English ones (customers mix them), normalised like customer text."""
    relative: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    for lang in dict.fromkeys(("en", language)):
        path = DATA_DIR / f"{lang}.yml"
        if not path.exists():
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, offset in _RELATIVE.items():
            relative.update({normalise(str(w)): offset for w in raw.get(key) or []})
        for index, forms in enumerate(raw.get("weekdays") or []):
            weekdays.update({normalise(str(w)): index for w in forms})
    by_length = lambda pairs: tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))  # noqa: E731
    return DateWords(by_length(relative), by_length(weekdays))
