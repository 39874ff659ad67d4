"""One normalisation for the classifier and the parsers: spellings customers mix are made to meet."""

from __future__ import annotations

import pytest

from core.textnorm import normalise


@pytest.mark.parametrize(
    "variants",
    [
        ("می‌خوام", "میخوام", "می خوام"),  # ZWNJ, joined, spaced
        ("نمی‌شه", "نمیشه", "نمی شه"),
        ("كيف", "کیف"),  # Arabic kaf and yeh against the Persian letters
        ("مستشفى", "مستشفی"),  # alef maksura
        ("مُشْكِلَة", "مشكلة", "مشکله"),  # harakat, teh marbuta
        ("الإنترنت", "الانترنت", "الأنترنت"),  # hamza on alef
        ("شـــكرا", "شكرا"),  # tatweel
        ("۴۸۲۷۱۶۳", "٤٨٢٧١٦٣", "4827163"),  # Persian, Arabic-Indic and ASCII digits
        ("Wi-Fi", "wi-fi"),
    ],
)
def test_spellings_that_customers_mix_meet(variants: tuple[str, ...]) -> None:
    assert len({normalise(v) for v in variants}) == 1, [normalise(v) for v in variants]


def test_different_words_stay_different() -> None:
    assert normalise("شنبه") != normalise("سه شنبه")
    assert normalise("до скольки") == "до скольки"
    assert normalise("\u2068+7 916\u2069") == "+7 916"  # bidi isolates are dropped
