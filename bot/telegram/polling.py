"""Long polling with store-before-confirm: the offset moves past an update only once it is committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import GetUpdates
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import store

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
BACKOFF_MAX_S = 30.0

Accept = Callable[[list[dict[str, Any]]], Awaitable[None]]


async def poll_updates(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], accept: Accept, timeout: int
) -> None:
    """Fetch, store (through `accept`), and only then confirm by asking with the next offset.

    aiogram's own polling confirms an update as soon as it is fetched; a crash before the handler
    ran would lose it. Here a batch that could not be stored is simply fetched again.
    """
    offset = await store.next_offset(sessions)
    with contextlib.suppress(TelegramAPIError, TelegramNetworkError):
        await bot.delete_webhook(drop_pending_updates=False)  # getUpdates refuses while one is set
    failures = 0
    while True:
        try:
            updates = await bot(
                GetUpdates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES),
                request_timeout=timeout + 10,
            )
            raw = [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in updates]
            await accept(raw)
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except (TelegramAPIError, TelegramNetworkError, ClientDecodeError) as exc:
            failures += 1
            logger.warning("telegram polling failed (%s in a row): %s", failures, exc)
            await asyncio.sleep(_backoff(failures))
            continue
        except Exception:
            # Most likely the database refused the batch: not confirmed, so it comes again.
            failures += 1
            logger.exception("telegram updates not stored (%s in a row)", failures)
            await asyncio.sleep(_backoff(failures))
            continue
        failures = 0
        if raw:
            offset = max(int(u["update_id"]) for u in raw) + 1


def _backoff(failures: int) -> float:
    return min(BACKOFF_MAX_S, 0.5 * 2 ** min(failures, 6))
