"""Who may read and write a web chat conversation: the holder of the token its first turn issued.

A web chat customer id is chosen by the widget and may be guessed (or be an e-mail address), so it
is no proof of identity. The first turn of a customer id issues a random token (256 bits); only its
SHA-256 is stored, and every later request for that customer must carry it as
`Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow
from core.privacy import ChannelData

# A first turn whose response was lost may be sent again (same message id) this long after: it
# gets a new token (the lost one stops working), so the customer is not locked out of their chat.
FIRST_TURN_RETRY = timedelta(minutes=10)


class WebChatCredential(Base):
    __tablename__ = "web_chat_credentials"

    customer_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    first_message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # UtcDateTime: read back aware


class ForeignConversation(Exception):
    """The customer id has a conversation, and the request does not carry its token."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def check_or_issue(
    sessions: async_sessionmaker[AsyncSession],
    customer_key: str,
    token: str | None,
    message_id: str | None = None,
) -> str | None:
    """None when the token opens this customer's conversation; a new token on the customer id's
    first turn (or that turn sent again); ForeignConversation otherwise."""
    issued = secrets.token_urlsafe(32)
    async with sessions() as db, db.begin():
        credential = await db.get(WebChatCredential, customer_key, with_for_update=True)
        if credential is None:
            db.add(
                WebChatCredential(
                    customer_key=customer_key, token_sha256=_digest(issued), first_message_id=message_id
                )
            )
            try:
                await db.flush()
            except IntegrityError as exc:  # two first turns at once: the other one got the conversation
                raise ForeignConversation from exc
            return issued
        if token is not None and hmac.compare_digest(credential.token_sha256, _digest(token)):
            return None
        if token is None and _retried_first_turn(credential, message_id):
            credential.token_sha256 = _digest(issued)
            return issued
    raise ForeignConversation


def _retried_first_turn(credential: WebChatCredential, message_id: str | None) -> bool:
    return (
        message_id is not None
        and credential.first_message_id == message_id
        and utcnow() - credential.created_at < FIRST_TURN_RETRY
    )


async def opens(sessions: async_sessionmaker[AsyncSession], customer_key: str, token: str | None) -> bool:
    """Whether the token opens this customer's conversation (a customer id never used opens nothing)."""
    async with sessions() as db:
        stored = await db.scalar(
            select(WebChatCredential.token_sha256).where(WebChatCredential.customer_key == customer_key)
        )
    return stored is not None and token is not None and hmac.compare_digest(stored, _digest(token))


async def erase_credential(db: AsyncSession, customer_key: str) -> None:
    """Erasure: the customer id's token goes, so the id is free for a new conversation."""
    if customer_key.startswith("web:"):
        await db.execute(delete(WebChatCredential).where(WebChatCredential.customer_key == customer_key))


WEB_CHAT_DATA = ChannelData(tables=(WebChatCredential.__tablename__,), erase=erase_credential)
