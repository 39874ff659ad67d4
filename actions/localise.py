"""The customer's language and channel as the core sent them, and catalogue lines written in them.

How numbers, prices and dates are written per language lives in core.localise (shared with the
phone menu); this module adds what depends on the tracker and the bot's texts.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.resources import catalogue
from bot.responses import formats
from core.catalogue import Tariff
from core.localise import (
    DEFAULT_LANGUAGE,
    full_date,
    localise_digits,
    number,
    price,
    short_date,
    spoken_number,
    spoken_price,
)

__all__ = ["full_date", "localise_digits", "number", "price", "short_date", "spoken_number", "spoken_price"]

# The channel name the phone menu gives its turns (ivr.contacts.CHANNEL): replies there are spoken.
VOICE_CHANNEL = "phone"


def language_of(tracker: Tracker) -> str:
    """The session's language as the core last sent it (the `language` slot)."""
    value = tracker.get_slot("language")
    return str(value).split("-")[0].lower() if value else DEFAULT_LANGUAGE


def is_spoken(tracker: Tracker) -> bool:
    """Whether the reply will be read out by the phone menu (the channel the core sent as metadata)."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get("channel") == VOICE_CHANNEL


def tariff_line(tariff: Tariff, language: str, *, spoken: bool = False) -> str:
    """One tariff as a line of the list and a button title, from the catalogue and the language's format.

    Spoken (the phone): units in words, numbers without group separators and the price with the
    currency's name, since a synthesiser reads "Mbit/s", "1 000" and "$" badly or not at all.
    """
    texts = formats(language)
    suffix, say_number, say_price = (
        ("_spoken", spoken_number, spoken_price) if spoken else ("", number, price)
    )
    mobile = ""
    if tariff.mobile_data_gb:
        mobile = texts[f"tariff_mobile{suffix}"].format(gb=say_number(tariff.mobile_data_gb, language))
    return texts[f"tariff_line{suffix}"].format(
        name=tariff.name_in(language),
        speed=say_number(tariff.speed_mbit, language),
        mobile=mobile,
        price=say_price(tariff.monthly_price, catalogue().currency, language),
    )
