"""Digits in other scripts and masking of personal data in log lines."""

from core.digits import to_ascii_digits
from core.masking import mask_number, mask_text


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("order ۱۲ and 34") == "order 12 and 34"


def test_phone_numbers_are_masked_but_short_numbers_stay() -> None:
    assert mask_number("+7 916 123-45-67") == "*********67"
    masked = mask_text("call me on +7 916 123-45-67 about order 4827163, flat 12")
    assert "916" not in masked and masked.endswith("order 4827163, flat 12")
    assert "*67" in masked
