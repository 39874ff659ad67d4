"""Callback tasks: a waiting customer (or one who calls out of hours) asks to be called back.

A callback is a handoff ticket of kind "callback": operators see it in the queue, claim it, call the
number and close it with a disposition, like a session. The conversation itself is closed (the
conversion is a transition in core.lifecycle)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import MessageAuthor
from core.models import ConversationSession, Customer, Message
from core.repo.orders import orders_of_customer

# Button payloads of the callback offer, and the marker of a question waiting for a phone number.
CALLBACK = "/callback"
AWAITING_PHONE = "callback_phone"


def callback_buttons(titles: tuple[str, str], back_to_bot: str) -> list[dict[str, str]]:
    """[Call me back] [Back to the virtual assistant]."""
    return [{"title": titles[0], "payload": CALLBACK}, {"title": titles[1], "payload": back_to_bot}]


async def known_phone(db: AsyncSession, session: ConversationSession) -> str | None:
    """A number to call: the one on the customer card, the caller's own on the phone channel, or
    the one the customer gave in their own latest order."""
    customer = await db.get(Customer, session.customer_id)
    assert customer is not None
    if customer.phone:
        return customer.phone
    if customer.key.startswith("tel:"):
        return customer.key.removeprefix("tel:")
    own = await orders_of_customer(db, customer.id, limit=1)
    return own[0].phone if own else None


async def awaiting_phone(db: AsyncSession, session_id: int) -> bool:
    """Whether the core's last message to this session asked for a number to call back."""
    last = await db.scalar(
        select(Message)
        .where(Message.session_id == session_id, Message.author == MessageAuthor.SYSTEM)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return last is not None and (last.payload or {}).get("awaiting") == AWAITING_PHONE
