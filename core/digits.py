"""Digits in any script (Arabic-Indic, Persian, fullwidth, ...) turned into ASCII digits."""

from __future__ import annotations

import unicodedata


def to_ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit by its ASCII twin; leave other characters alone."""
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.decimal(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)
