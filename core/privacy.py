"""A customer's personal data: export it, erase it (a data-subject request), and purge what is old.

Run from the command line as `python -m app.privacy` (app/privacy.py), which registers every
channel first.

A customer key is channel-namespaced, as the operator card shows it: "web:<id>", "tg:<user id>",
"tel:+<number>". Orders are business records: erasing a customer anonymises theirs (name, phone,
address) instead of deleting them; a purge keeps them. The Rasa trackers live in Rasa's tracker
store: a purge or an erasure there is Rasa's (see the README).

What a channel keeps in tables of its own (Telegram's chats and raw updates, web chat tokens) it
registers here as `ChannelData`; the core names no channel. The app registers every channel
(app/channel_data.py), and so does the command, which runs without the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core import outbox
from core.models import (
    ConversationSession,
    Customer,
    CustomerCardChange,
    HandoffTicket,
    Message,
    Order,
    SessionEvent,
    SessionState,
    TicketNote,
    utcnow,
)

ERASED = "[erased]"
_CUSTOMER_FIELDS = ("key", "full_name", "phone", "address", "note", "language", "created_at")


@dataclass(frozen=True)
class ChannelData:
    """What one channel keeps about customers in tables of its own."""

    # The channel's tables: a database without them (the channel never ran there) is skipped.
    tables: tuple[str, ...]
    # Deletes the rows of one customer key (a key of another channel is the channel's to ignore).
    erase: Callable[[AsyncSession, str], Awaitable[None]]
    # Retention: deletes what is older than the cutoff; returns counts by what was deleted.
    purge: Callable[[AsyncSession, datetime], Awaitable[dict[str, int]]] | None = None


# By channel name; registering a channel again replaces its entry.
CHANNEL_DATA: dict[str, ChannelData] = {}


def register_channel_data(channel: str, data: ChannelData) -> None:
    CHANNEL_DATA[channel] = data


async def export_customer(db: AsyncSession, key: str) -> dict[str, Any] | None:
    """Everything stored about the customer, as JSON-ready data; None for an unknown key."""
    customer = await db.scalar(select(Customer).where(Customer.key == key))
    if customer is None:
        return None
    sessions = list(
        await db.scalars(
            select(ConversationSession)
            .where(ConversationSession.customer_id == customer.id)
            .order_by(ConversationSession.id)
        )
    )
    ids = [s.id for s in sessions]
    changed = CustomerCardChange.customer_id == customer.id
    return {
        "customer": _row(customer, _CUSTOMER_FIELDS),
        # Operators' corrections of the card keep the values it held before.
        "card_changes": [
            _row(c, ("field", "old_value", "new_value", "operator_id", "at"))
            for c in await _all(db, select(CustomerCardChange).where(changed), CustomerCardChange.id)
        ],
        "sessions": [
            {
                **_row(s, ("id", "channel", "language", "state", "started_at", "closed_at")),
                "messages": [
                    _row(m, ("direction", "author", "text", "payload", "created_at"))
                    for m in await _all(db, select(Message).where(Message.session_id == s.id), Message.id)
                ],
            }
            for s in sessions
        ],
        "orders": [
            _row(
                o,
                (
                    "number",
                    "status",
                    "full_name",
                    "phone",
                    "address",
                    "tariff_code",
                    "visit_date",
                    "created_at",
                ),
            )
            for o in await _all(db, select(Order).where(Order.customer_id == customer.id), Order.id)
        ],
        "tickets": [
            _row(t, ("reason", "topic", "summary", "status", "callback_phone", "card", "created_at"))
            for t in await _all(
                db, select(HandoffTicket).where(HandoffTicket.session_id.in_(ids)), HandoffTicket.id
            )
        ],
    }


@dataclass(frozen=True)
class Erased:
    sessions: int
    messages: int
    orders_anonymised: int


async def erase_customer(db: AsyncSession, key: str) -> Erased | None:
    """Delete the customer's conversations, cards and channel identifiers; anonymise their orders.
    Runs in the caller's transaction. None for an unknown key."""
    customer = await db.scalar(select(Customer).where(Customer.key == key))
    if customer is None:
        return None
    ids = list(
        await db.scalars(select(ConversationSession.id).where(ConversationSession.customer_id == customer.id))
    )
    tickets = select(HandoffTicket.id).where(HandoffTicket.session_id.in_(ids))
    await db.execute(delete(TicketNote).where(TicketNote.ticket_id.in_(tickets)))
    await db.execute(delete(HandoffTicket).where(HandoffTicket.session_id.in_(ids)))
    messages = (await db.execute(delete(Message).where(Message.session_id.in_(ids)))).rowcount
    await outbox.erase_sessions(db, ids)  # live events quote the messages' texts
    await db.execute(delete(SessionEvent).where(SessionEvent.session_id.in_(ids)))
    orders = (
        await db.execute(
            update(Order)
            .where(Order.customer_id == customer.id)
            .values(full_name=ERASED, phone="", address=ERASED, customer_id=None, session_id=None)
        )
    ).rowcount
    await db.execute(update(Order).where(Order.session_id.in_(ids)).values(session_id=None))
    await db.execute(delete(ConversationSession).where(ConversationSession.id.in_(ids)))
    for data in await _present_channels(db):
        await data.erase(db, key)
    await db.execute(delete(CustomerCardChange).where(CustomerCardChange.customer_id == customer.id))
    await db.delete(customer)
    return Erased(len(ids), messages, orders)


async def purge_older_than(db: AsyncSession, days: int, now: datetime | None = None) -> dict[str, int]:
    """Retention: transcripts and cards of contacts closed more than `days` ago, and old raw
    channel data (raw messenger updates), are deleted; sessions, events (the figures) and orders stay."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    closed = select(ConversationSession.id).where(
        ConversationSession.state == SessionState.CLOSED.value, ConversationSession.last_activity_at < cutoff
    )
    messages = (await db.execute(delete(Message).where(Message.session_id.in_(closed)))).rowcount
    old_tickets = select(HandoffTicket.id).where(HandoffTicket.session_id.in_(closed))
    await db.execute(delete(TicketNote).where(TicketNote.ticket_id.in_(old_tickets)))
    cards = (
        await db.execute(
            update(HandoffTicket)
            .where(HandoffTicket.session_id.in_(closed), HandoffTicket.summary != ERASED)
            .values(card={}, summary=ERASED, callback_phone=None)
        )
    ).rowcount
    purged = {"messages": messages, "cards": cards}
    for data in await _present_channels(db):
        if data.purge is not None:
            purged.update(await data.purge(db, cutoff))
    return purged


async def _present_channels(db: AsyncSession) -> list[ChannelData]:
    """The registered channels whose tables this database has."""
    connection: AsyncConnection = await db.connection()
    names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    return [data for data in CHANNEL_DATA.values() if names.issuperset(data.tables)]


async def _all(db: AsyncSession, query: Any, order: Any) -> list[Any]:
    return list(await db.scalars(query.order_by(order)))


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
