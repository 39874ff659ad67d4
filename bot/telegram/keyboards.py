"""Core buttons as inline keyboards; payloads too long for callback data are kept behind a short key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.models import TelegramButtonPayload
from core.schemas import Button

# Telegram's limit for callback_data, in bytes of UTF-8.
CALLBACK_DATA_LIMIT = 64
_INLINE = "="  # the payload itself follows
KEYED = "#"  # a key into telegram_button_payloads follows


def callback_data(payload: str) -> str:
    """What goes into the button: the payload when it fits, else a key derived from it."""
    inline = _INLINE + payload
    if len(inline.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return inline
    return KEYED + payload_key(payload)


def payload_key(payload: str) -> str:
    """Stable for one payload, so pressing an old button works after a restart."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def inline_keyboard(buttons: Iterable[Button]) -> InlineKeyboardMarkup | None:
    """One button per row: titles in any script stay readable on a phone."""
    rows = [[InlineKeyboardButton(text=b.title, callback_data=callback_data(b.payload))] for b in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def share_phone_keyboard(title: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=title, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def remember_long_payloads(db: AsyncSession, buttons: Iterable[Button]) -> None:
    """Store the payloads that do not fit into callback data (once each); the caller commits."""
    wanted = {payload_key(b.payload): b.payload for b in buttons if callback_data(b.payload)[0] == KEYED}
    if not wanted:
        return
    known = set(
        await db.scalars(select(TelegramButtonPayload.key).where(TelegramButtonPayload.key.in_(wanted)))
    )
    for key, payload in wanted.items():
        if key not in known:
            db.add(TelegramButtonPayload(key=key, payload=payload))


async def payload_of(db: AsyncSession, data: str) -> str | None:
    """The payload behind a pressed button; None when the data is not ours or the key is unknown."""
    if data.startswith(_INLINE):
        return data[len(_INLINE) :] or None
    if data.startswith(KEYED):
        row = await db.get(TelegramButtonPayload, data[len(KEYED) :])
        return row.payload if row else None
    return None
