"""Long polling with store-before-confirm: the offset moves past an update only once it is committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import GetUpdates

from bot.telegram.logsafe import log_failure, summary

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
BACKOFF_MIN_S = 0.5
# As aiogram's own polling: after an outage the first customer waits at most this for a retry.
BACKOFF_MAX_S = 5.0
BACKOFF_JITTER = 0.2  # a fraction taken off at random, so restarted bots do not retry in step

Accept = Callable[[list[dict[str, Any]]], Awaitable[None]]


class GetRawUpdates(GetUpdates):
    """getUpdates answered as Telegram's own JSON: stored as sent, and one update aiogram cannot
    read is found when it is handled instead of failing (and repeating) the whole batch."""

    __returning__ = list[dict[str, Any]]


async def poll_updates(bot: Bot, accept: Accept, timeout: int) -> None:
    """Fetch, store (through `accept`), and only then confirm by asking with the next offset.

    aiogram's own polling confirms an update as soon as it is fetched; a crash before the handler
    ran would lose it. Here a batch that could not be stored is simply fetched again.
    """
    with contextlib.suppress(TelegramAPIError, TelegramNetworkError):
        await bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses while one is set
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await bot(
                GetRawUpdates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES),
                request_timeout=timeout + 10,
            )
            await accept(updates)
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except (TelegramAPIError, TelegramNetworkError, ClientDecodeError) as exc:
            failures += 1
            logger.warning("telegram polling failed (%s in a row): %s", failures, summary(exc))
            await asyncio.sleep(backoff(failures))
            continue
        except Exception as exc:
            # Most likely the database refused the batch: not confirmed, so it comes again.
            failures += 1
            log_failure(logger, "telegram updates not stored (%s in a row)", failures, error=exc)
            await asyncio.sleep(backoff(failures))
            continue
        failures = 0
        offset = next_offset(updates)


def next_offset(stored: list[dict[str, Any]]) -> int | None:
    """The offset that confirms a stored batch; after an empty answer (all confirmed) none at all.

    Never an offset remembered from before a quiet spell: after a week without updates Telegram
    picks the next update id at random, and an update below the offset would count as confirmed
    unseen. Without an offset, Telegram answers from its earliest unconfirmed update.
    """
    return max(int(u["update_id"]) for u in stored) + 1 if stored else None


def backoff(failures: int) -> float:
    ceiling = min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** min(failures - 1, 10))
    return ceiling * random.uniform(1 - BACKOFF_JITTER, 1)
