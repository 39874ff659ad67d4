"""Long replies cut into messages Telegram accepts, at the most natural boundary that fits."""

from __future__ import annotations

import re

# Telegram counts a message's length in UTF-16 code units (an emoji may count twice).
TELEGRAM_TEXT_LIMIT = 4096

# Sentence ends in the scripts we serve: Latin/Cyrillic . ! ? …, Arabic and Persian ؟ and ۔, CJK 。！？
_SENTENCE_END = re.compile(r"(?<=[.!?…؟۔。！？])[\"'»”)\]]*\s+")
_SPACE = re.compile(r"\s+")


def text_length(text: str) -> int:
    """Length as Telegram measures it."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` units: cut at a paragraph, else a line, a sentence, a space, else hard."""
    pieces: list[str] = []
    rest = text.strip()
    while text_length(rest) > limit:
        cut = _best_cut(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = _prefix_within(text, limit)
    # A boundary in the first quarter would leave a tiny message: only accept ones further on.
    floor = len(window) // 4
    for finder in (_last_paragraph, _last_line, _last_sentence, _last_space):
        cut = finder(window)
        if cut > floor:
            return cut
    return len(window)


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix within `limit` UTF-16 units, never splitting a surrogate pair."""
    encoded = text.encode("utf-16-le")[: limit * 2]
    return encoded.decode("utf-16-le", errors="ignore")


def _last_paragraph(window: str) -> int:
    index = window.rfind("\n\n")
    return index if index > 0 else -1


def _last_line(window: str) -> int:
    index = window.rfind("\n")
    return index if index > 0 else -1


def _last_sentence(window: str) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    return ends[-1] if ends else -1


def _last_space(window: str) -> int:
    ends = [m.start() for m in _SPACE.finditer(window)]
    return ends[-1] if ends else -1
