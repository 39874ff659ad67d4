"""Outgoing messages: ordered per chat by the caller, retried the way Telegram asks."""

from __future__ import annotations

import asyncio
import enum
import logging

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.telegram.splitting import split_message

logger = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
MAX_BACKOFF_S = 30.0
# Telegram's flood control may ask for waits many times in a row; beyond this we try later.
MAX_RETRY_AFTER_WAITS = 20
# Text for a reply that is only buttons: Telegram refuses an empty message.
BUTTONS_ONLY_TEXT = "⬇️"


class Outcome(enum.Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the customer blocked the bot; retrying cannot help
    REJECTED = "rejected"  # 400: this message can never be sent as it is
    FAILED = "failed"  # Telegram or the network kept failing: try again later


class Sender:
    def __init__(self, bot: Bot, *, attempts: int, base_backoff_s: float = 0.5) -> None:
        self._bot = bot
        self._attempts = attempts
        self._base_backoff = base_backoff_s

    async def send_text(self, chat_id: int, text: str, markup: Markup | None = None) -> Outcome:
        """A reply of any length: split into pieces, the keyboard under the last one."""
        pieces = split_message(text) or [BUTTONS_ONLY_TEXT]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            outcome = await self._send_one(chat_id, piece, markup if last else None)
            if outcome is not Outcome.SENT:
                return outcome
        return Outcome.SENT

    async def _send_one(self, chat_id: int, text: str, markup: Markup | None) -> Outcome:
        """One sendMessage, with 429 waits and backoff on 5xx and network errors."""
        failures = waits = 0
        while True:
            try:
                await self._bot.send_message(chat_id, text, reply_markup=markup)
                return Outcome.SENT
            except TelegramRetryAfter as exc:
                waits += 1
                if waits > MAX_RETRY_AFTER_WAITS:
                    return Outcome.FAILED
                logger.info("telegram flood control chat_id=%s retry_after=%s", chat_id, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except TelegramForbiddenError:
                logger.info("telegram chat unreachable (bot blocked) chat_id=%s", chat_id)
                return Outcome.BLOCKED
            except TelegramBadRequest as exc:
                logger.error("telegram refused a message chat_id=%s: %s", chat_id, exc.message)
                return Outcome.REJECTED
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as exc:
                failures += 1
                if failures >= self._attempts:
                    logger.warning(
                        "telegram send failed chat_id=%s after %s tries: %s", chat_id, failures, exc
                    )
                    return Outcome.FAILED
                await asyncio.sleep(min(MAX_BACKOFF_S, self._base_backoff * 2 ** (failures - 1)))
            except TelegramAPIError as exc:
                # 401/404/409...: a set-up problem, not this message's; kept for a later try.
                logger.error("telegram send failed chat_id=%s: %s", chat_id, exc)
                return Outcome.FAILED
