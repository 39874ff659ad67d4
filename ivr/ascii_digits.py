"""Numbers on the wire (SIP, SDP): ASCII digits only, because str.isdigit() and int() take "²" or "٣"."""

from __future__ import annotations

_ASCII_DIGITS = frozenset("0123456789")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 only (no sign, space, underscore or other script's digit)."""
    return bool(text) and _ASCII_DIGITS.issuperset(text)


def ascii_int(text: str, max_digits: int = 10) -> int | None:
    """The value of a run of ASCII digits, or None for anything else (or longer than max_digits)."""
    return int(text) if is_ascii_digits(text) and len(text) <= max_digits else None
