"""One normalisation of customer text, shared by the NLU tokenizer (training and run time) and parsers.

Pure standard library on purpose: the Rasa server (its own Python 3.10 environment) imports it too.
"""

from __future__ import annotations

import re
import unicodedata

from core.digits import to_ascii_digits

ZWNJ = "\u200c"
# Harakat, tanween, shadda, sukun, superscript alef and Quranic marks carry no meaning for intents.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_INVISIBLE = re.compile("[\u200b\u200d\u200e\u200f\u2066-\u2069\u202a-\u202e\ufeff]")
# Arabic and Persian keyboards give different code points for the same letters.
_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        "\u0629": "\u0647",  # teh marbuta -> heh (written either way in chat)
        "\u0623": "\u0627",  # alef with hamza above / below / madda -> alef
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0671": "\u0627",
    }
)
# Persian verb prefixes written joined, with a ZWNJ or with a space: "میخوام" = "می‌خوام" = "می خوام".
_PREFIXED = re.compile(r"(?<!\S)(ن?می) (?=\S)")


def normalise(text: str) -> str:
    """Text as the classifier and the parsers see it; the customer's own text is stored unchanged."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _ARABIC_MARKS.sub("", text).replace(_TATWEEL, "")
    text = text.translate(_LETTERS).replace(ZWNJ, "")
    text = _PREFIXED.sub(r"\1", text)
    return to_ascii_digits(text).casefold()


def normalise_token(token: str) -> str:
    """One whitespace-separated word, normalised as `normalise` does inside a sentence."""
    return normalise(token)


def join_verb_prefix(first: str, second: str) -> str | None:
    """The joined word when `first` is a separated Persian verb prefix (می, نمی) before `second`."""
    if first in ("می", "نمی") and second:
        return first + second
    return None
