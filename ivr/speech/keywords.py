"""Menu keywords per language: which menu entry a recognised text asks for.

Files: ivr/data/keywords/<language>.yml, a mapping of menu entry -> phrases. The same phrases
restrict the recogniser's grammar, so they are whole words a caller says, in the forms they say them.
An optional `_filler` list holds other words callers say ("yes", "hello"): they join the grammar
but select nothing. A model without "[unk]" (the small Korean one) forces every sound onto some
grammar word; fillers give other speech somewhere to go instead of a menu entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

KEYWORDS_DIR = Path(__file__).resolve().parent.parent / "data" / "keywords"
MENU_ENTRIES = ("tariffs", "order_status", "new_connection", "operator")
FILLER_KEY = "_filler"
# A caller who asks for a person gets one, even when the same sentence names another topic.
PREFERRED_ENTRY = "operator"

# Arabic and Persian spellings of one word vary (keyboard, habit): compare them in one form.
_ARABIC_FOLD = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ی",
        "\u0640": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner inside Persian words
    }
)
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")  # harakat: optional, rarely typed or recognised
_ARABIC_ARTICLE = re.compile("^(?:وال|بال|لل|ال)(?=\\w{3})")  # "the", "and the", "with the", "for the"


def load_keywords(language: str, directory: Path = KEYWORDS_DIR) -> dict[str, list[str]]:
    """Menu entry -> phrases for a language; {} when the language has no file."""
    data = _read(language, directory)
    return {entry: phrases for entry, phrases in data.items() if not entry.startswith("_")}


def recognizer_phrases(language: str, directory: Path = KEYWORDS_DIR) -> list[str]:
    """The grammar for a menu: every keyword phrase, then the fillers."""
    data = _read(language, directory)
    return all_phrases(load_keywords(language, directory)) + data.get(FILLER_KEY, [])


def _read(language: str, directory: Path) -> dict[str, list[str]]:
    path = Path(directory) / f"{language}.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of menu entry to a list of phrases")
    keywords: dict[str, list[str]] = {}
    for entry, phrases in data.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise ValueError(f"{path}: {entry!r} must be a list of non-empty phrases")
        keywords[str(entry)] = [" ".join(p.split()) for p in phrases]
    return keywords


def all_phrases(keywords: dict[str, list[str]]) -> list[str]:
    """Every phrase once, for a recogniser grammar."""
    return list(dict.fromkeys(p for phrases in keywords.values() for p in phrases))


@dataclass(frozen=True)
class KeywordMatch:
    entry: str
    positions: tuple[int, ...]  # which of the heard words said the phrase


def match_keyword(text: str, keywords: dict[str, list[str]]) -> str | None:
    """The menu entry whose phrase occurs in the text; the longest phrase wins, then the operator."""
    found = find_keyword(text.split(), keywords)
    return found.entry if found else None


def find_keyword(words: Sequence[str], keywords: dict[str, list[str]]) -> KeywordMatch | None:
    """The entry whose phrase occurs in the words, and where; the longest phrase wins, then the operator."""
    heard: list[str] = []
    owners: list[int] = []  # the word each token came from ("I'd" gives two tokens)
    for index, word in enumerate(words):
        for token in tokens(word):
            heard.append(token)
            owners.append(index)
    best: tuple[int, int, bool] | None = None
    chosen = None
    for entry, phrases in keywords.items():
        for phrase in phrases:
            wanted = tokens(phrase)
            start = _find(wanted, heard) if wanted else None
            if start is None:
                continue
            score = (len(wanted), len("".join(wanted)), entry == PREFERRED_ENTRY)
            if best is None or score > best:  # equal scores: the entry listed first keeps it
                span = owners[start : start + len(wanted)]
                best, chosen = score, KeywordMatch(entry, tuple(dict.fromkeys(span)))
    return chosen


def tokens(text: str) -> list[str]:
    """Words compared case-, diacritic- and spelling-variant-insensitively."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC_FOLD)
    text = _ARABIC_MARKS.sub("", text)
    cleaned = "".join(ch if ch.isalnum() else " " for ch in text)
    return [_ARABIC_ARTICLE.sub("", word) for word in cleaned.split()]


def _find(wanted: list[str], words: list[str]) -> int | None:
    span = len(wanted)
    return next((i for i in range(len(words) - span + 1) if _same_words(wanted, words[i : i + span])), None)


def _same_words(wanted: Iterable[str], heard: Iterable[str]) -> bool:
    return all(_same_word(w, h) for w, h in zip(wanted, heard, strict=True))


def _same_word(wanted: str, heard: str) -> bool:
    # A heard word may carry an ending the phrase lacks (Korean particles, Russian cases, plurals);
    # short Latin words must match whole ("new" is not "news").
    if heard == wanted:
        return True
    minimum = 4 if wanted.isascii() else 2
    return len(wanted) >= minimum and heard.startswith(wanted)
