"""Phone numbers as customers type or key them, in any script, reduced to one comparable form."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers

from core.digits import to_ascii_digits

_SEPARATORS = re.compile(r"[\s().\-\u200e\u200f]")


def normalise_phone(text: str) -> str | None:
    """'+7 (916) 123-45-67' -> '+79161234567'; None when it is not 7 to 15 digits."""
    compact = _SEPARATORS.sub("", to_ascii_digits(text.strip()))
    plus = compact.startswith("+") or compact.startswith("00")
    digits = compact[2:] if compact.startswith("00") else compact.lstrip("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        return None
    return ("+" if plus else "") + digits


def parse_phone(text: str, regions: Sequence[str]) -> str | None:
    """A real phone number in E.164 ('+79161234567'), checked against the numbering plans (libphonenumber).

    Digits in any script; with a country code ('+', '00') it stands alone, without one it is read
    as a national number of each region in turn (the customer's language's countries first).
    """
    compact = _SEPARATORS.sub("", to_ascii_digits(text.strip()))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d{5,17}", compact):
        return None
    for region in (None,) if compact.startswith("+") else tuple(regions):
        try:
            number = phonenumbers.parse(compact, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
