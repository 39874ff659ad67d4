"""The bot's chat replies made fit to be read out on the phone, in any language and digit script."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.conversation import PERSON_NOW
from core.schemas import Reply

# Bidi isolates and marks keep RTL chat texts in order on screen; a synthesiser has no use for them.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Five digits and more (an order or phone number, in any script) are an identifier, not a quantity:
# said digit by digit, the way the caller would key or write it down.
_LONG_DIGIT_RUN = re.compile(r"\d{5,}")
_BULLET = re.compile(r"^\s*[•·*\-]\s*", re.MULTILINE)
_LINE_END = re.compile(r"(?<![.!?؟。:;،؛])\s*\n+\s*")


def speakable(text: str) -> str:
    """ "Order 1234567:\n• Home 300" -> "Order 1 2 3 4 5 6 7: Home 300" (line breaks as pauses)."""
    text = _BIDI_CONTROLS.sub("", text)
    text = _LONG_DIGIT_RUN.sub(lambda m: " ".join(m.group()), text)
    text = _BULLET.sub("", text)
    text = _LINE_END.sub(". ", text)
    return re.sub(r"\s+", " ", text).strip()


def spoken_replies(replies: Sequence[Reply], offer_operator: str) -> str:
    """A turn's replies as one text to read out. The offer of a person that an upset customer gets
    in chat points to a button a caller does not have: the menu's own offer (a key) is said instead."""
    texts = (offer_operator if any(b.payload == PERSON_NOW for b in r.buttons) else r.text for r in replies)
    return speakable("\n".join(text for text in texts if text))


# A sentence ends at . ! ? … (Latin, Cyrillic), ؟ (Arabic, Persian) or 。 followed by a space;
# "3.5" or "v1.2" has none after the dot and stays whole.
_SENTENCE_END = re.compile(r"(?<=[.!?…؟。])\s+")


def sentences(text: str) -> list[str]:
    """ "Welcome. Press 1." -> ["Welcome.", "Press 1."]: each is rendered (and cached) on its own,
    so the first can play while the next renders."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]
