"""Which language a customer writes in, read from the text itself (script, letters, common words).

Only clear evidence counts: a Russian customer's "ok" or an order number never switches the session
to another language. Arabic and Persian share a script; Persian has letters of its own (پ چ ژ گ) and
its own forms of yeh and kaf, and customers on an Arabic keyboard still use Persian words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

from core.textnorm import normalise

_PERSIAN_ONLY = frozenset("پچژگ")  # letters Arabic does not have
_PERSIAN_FORMS = frozenset("یک")  # yeh and kaf as a Persian keyboard types them
_ARABIC_LETTERS = frozenset("ةيكىأإؤئ")  # forms a Persian keyboard does not give
# Frequent words of each that the other does not use: a data file, so a centre can add its own.
WORDS_FILE = Path(__file__).parent / "data" / "language_words.yml"


@lru_cache
def _words(language: str) -> frozenset[str]:
    raw = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")) or {}
    return frozenset(normalise(str(w)) for w in raw.get(language) or ())


_WORD = re.compile(r"\w+")


def detect_language(text: str, current: str | None = None) -> str | None:
    """'en', 'ru', 'ar' or 'fa' when the text clearly is one of them; None when it cannot tell.

    `current` is the session's language: Arabic-script text with no sign of either language
    ("جمعه", "فردا") stays in it rather than switching a Persian customer to Arabic.
    """
    if text.startswith("/"):  # a button payload such as /affirm
        return None
    counts = {"latin": 0, "cyrillic": 0, "arabic": 0}
    for ch in text:
        if ch.isalpha():
            script = _script(ch)
            if script in counts:
                counts[script] += 1
    script, letters = max(counts.items(), key=lambda item: item[1])
    if letters < 2 or letters < 0.6 * sum(counts.values()):
        return None
    if script == "cyrillic":
        return "ru"
    if script == "arabic":
        return _arabic_or_persian(text, current)
    # Latin letters: only several English-looking words count (not "ok", "wifi" or a tariff name).
    return "en" if len(text.split()) >= 3 and counts["latin"] >= 8 else None


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("ARABIC"):
        return "arabic"
    return "other"


def _arabic_or_persian(text: str, current: str | None) -> str:
    persian = sum(6 if ch in _PERSIAN_ONLY else 2 if ch in _PERSIAN_FORMS else 0 for ch in text)
    arabic = sum(ch in _ARABIC_LETTERS for ch in text) * 2
    for word in _WORD.findall(normalise(text)):
        persian += word in _words("fa")
        arabic += word in _words("ar")
        if word.startswith("ال") and len(word) > 3:  # the Arabic article
            arabic += 1
    if persian == arabic and current in ("ar", "fa"):
        return current
    return "fa" if persian > arabic else "ar"
