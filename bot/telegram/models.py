"""Telegram's own tables: the inbox of updates, chats with their delivery cursor, long button payloads.

They share the front line's metadata (`core.models.Base`), so one Alembic history covers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


class TelegramUpdate(Base):
    """Telegram's inbox: an update is stored here before it is confirmed, and handled once."""

    __tablename__ = "telegram_updates"

    # Arrival order: update ids are not unique (Telegram may reuse one after a quiet week).
    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger)
    # The update's own identity (chat, message id, date; or callback query id): with update_id, it
    # tells a redelivery from a new update that got a reused id.
    fingerprint: Mapped[str] = mapped_column(String(120))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    # received, then handled (or failed: could not be handled, kept for a person to look at).
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("update_id", "fingerprint", name="uq_telegram_updates_update"),
        Index("ix_telegram_updates_status", "status", "id"),
    )


class TelegramChat(Base):
    """A customer's private chat with the bot, and how far our messages reached it."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    customer_key: Mapped[str] = mapped_column(String(160), unique=True)
    # Id of the last outgoing message sent to this chat: anything newer is still to be delivered.
    delivered_message_id: Mapped[int] = mapped_column(default=0)
    # Set when Telegram answered 403 (the customer blocked the bot); cleared when they write again.
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramButtonPayload(Base):
    """Button payloads longer than Telegram's 64-byte callback data, kept behind a short key."""

    __tablename__ = "telegram_button_payloads"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
