"""Callback tasks: a waiting customer (or one who calls out of hours) asks to be called back.

A callback is a handoff ticket of kind "callback": operators see it in the queue, claim it, call the
number and close it with a disposition, like a session. The conversation itself is closed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ConversationSession, Customer, HandoffTicket, Message, SessionState, TicketKind
from core.repo.orders import orders_of_customer
from core.repo.sessions import change_state

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
        .where(Message.session_id == session_id, Message.author == "system")
        .order_by(Message.id.desc())
        .limit(1)
    )
    return last is not None and (last.payload or {}).get("awaiting") == AWAITING_PHONE


async def register_callback(
    db: AsyncSession,
    session: ConversationSession,
    ticket: HandoffTicket,
    phone: str,
    due: datetime,
) -> None:
    """The waiting ticket becomes a callback task; the conversation ends (the customer was told)."""
    ticket.kind = TicketKind.CALLBACK.value
    ticket.callback_phone = phone
    # UTC: SQLite keeps no offset, and every other time in the store is UTC too.
    ticket.callback_after = due.astimezone(UTC)
    ticket.offered_to = ticket.offered_at = None
    await change_state(
        db, session, SessionState.CLOSED, "callback_requested",
        {"ticket_id": ticket.id, "due": due.isoformat()},
    )  # fmt: skip
