"""Masks personal data before it reaches a log line or an export."""

from __future__ import annotations

import re

from core.digits import to_ascii_digits

# Runs of 7+ digits, possibly split by spaces, dashes, dots or brackets: phone and card numbers.
_LONG_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
# An e-mail address (also inside a URL path, e.g. a web chat customer id).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_number(value: str) -> str:
    """Keep the last two digits of a phone or card number, hide the rest."""
    digits = [c for c in to_ascii_digits(value) if c.isdigit()]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + "".join(digits[-2:])


def mask_email(address: str) -> str:
    """ "anna.k@example.com" -> "a***@***.com": enough to tell two apart in a log, not to write."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}"


def mask_text(text: str) -> str:
    """Hide long digit runs (phones, cards) and e-mail addresses in free text; shorter numbers stay."""

    def _sub(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = sum(c.isdigit() for c in raw)
        return mask_number(raw) if digits >= 8 else raw

    text = _EMAIL.sub(lambda match: mask_email(match.group(0)), text)
    return _LONG_NUMBER.sub(_sub, to_ascii_digits(text))


def mask_card_value(field: str, value: str | None) -> str:
    """A customer card value as a log line may show it: a phone's last two digits, a name's first
    letter, and of an address or a note only its length."""
    if not value:
        return "-"
    if field == "phone":
        return mask_number(value)
    if field == "full_name":
        return f"{value[:1]}***"
    return f"[{len(value)} chars]"
