"""Masks personal data before it reaches a log line or an export."""

from __future__ import annotations

import re

from core.digits import to_ascii_digits

# Runs of 7+ digits, possibly split by spaces, dashes, dots or brackets: phone and card numbers.
_LONG_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_number(value: str) -> str:
    """Keep the last two digits of a phone or card number, hide the rest."""
    digits = [c for c in to_ascii_digits(value) if c.isdigit()]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + "".join(digits[-2:])


def mask_text(text: str) -> str:
    """Hide long digit runs (phones, cards) in free text; shorter numbers stay readable."""

    def _sub(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = sum(c.isdigit() for c in raw)
        return mask_number(raw) if digits >= 8 else raw

    return _LONG_NUMBER.sub(_sub, to_ascii_digits(text))
