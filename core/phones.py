"""Phone numbers as customers type or key them, in any script, reduced to one comparable form."""

from __future__ import annotations

import re

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
