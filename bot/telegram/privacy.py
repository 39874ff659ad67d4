"""What Telegram keeps about a customer in its own tables, for erasure and retention (core.privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.models import TelegramChat, TelegramUpdate
from core.privacy import ChannelData


async def erase_customer_rows(db: AsyncSession, customer_key: str) -> None:
    """The customer's chat and every raw update from it."""
    if not customer_key.startswith("tg:"):
        return
    chats = select(TelegramChat.chat_id).where(TelegramChat.customer_key == customer_key)
    await db.execute(delete(TelegramUpdate).where(TelegramUpdate.chat_id.in_(chats)))
    await db.execute(delete(TelegramChat).where(TelegramChat.customer_key == customer_key))


async def purge_old_updates(db: AsyncSession, cutoff: datetime) -> dict[str, int]:
    """Raw updates handled (or failed) before the cutoff; one never handled is still to do."""
    deleted = await db.execute(
        delete(TelegramUpdate).where(TelegramUpdate.received_at < cutoff, TelegramUpdate.status != "received")
    )
    return {"telegram_updates": deleted.rowcount}


TELEGRAM_DATA = ChannelData(
    tables=(TelegramChat.__tablename__, TelegramUpdate.__tablename__),
    erase=erase_customer_rows,
    purge=purge_old_updates,
)
