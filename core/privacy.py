"""A customer's personal data: export it, erase it (a data-subject request), and purge what is old.

    .venv/bin/python -m core.privacy export <customer key>      # JSON on stdout
    .venv/bin/python -m core.privacy erase <customer key> --yes
    .venv/bin/python -m core.privacy purge --days 90

A customer key is channel-namespaced, as the operator card shows it: "web:<id>", "tg:<user id>",
"tel:+<number>". Orders are business records: erasing a customer anonymises theirs (name, phone,
address) instead of deleting them; a purge keeps them. The Rasa trackers live in Rasa's tracker
store: a purge or an erasure there is Rasa's (see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, column, delete, inspect, select, table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core import outbox
from core.models import (
    ConversationSession,
    Customer,
    HandoffTicket,
    Message,
    Order,
    SessionEvent,
    SessionState,
    TicketNote,
    UtcDateTime,
    utcnow,
)

ERASED = "[erased]"
# Channel tables that hold a customer's identifiers, by name (core does not import the channels).
_TELEGRAM_CHATS = table("telegram_chats", column("chat_id"), column("customer_key"))
_TELEGRAM_UPDATES = table(
    "telegram_updates", column("chat_id"), column("received_at", UtcDateTime), column("status")
)
_WEB_CREDENTIALS = table("web_chat_credentials", column("customer_key"))


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
    return {
        "customer": _row(customer, ("key", "full_name", "phone", "language", "created_at")),
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
    await _erase_channel_rows(db, key)
    await db.delete(customer)
    return Erased(len(ids), messages, orders)


async def purge_older_than(db: AsyncSession, days: int, now: datetime | None = None) -> dict[str, int]:
    """Retention: transcripts and cards of contacts closed more than `days` ago, and old raw
    messenger updates, are deleted; sessions, events (the figures) and orders stay."""
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
    updates = 0
    if await _has_table(db, "telegram_updates"):
        updates = (
            await db.execute(
                delete(_TELEGRAM_UPDATES).where(
                    and_(_TELEGRAM_UPDATES.c.received_at < cutoff, _TELEGRAM_UPDATES.c.status != "received")
                )
            )
        ).rowcount
    return {"messages": messages, "cards": cards, "telegram_updates": updates}


async def _erase_channel_rows(db: AsyncSession, key: str) -> None:
    if key.startswith("tg:") and await _has_table(db, "telegram_chats"):
        chats = select(_TELEGRAM_CHATS.c.chat_id).where(_TELEGRAM_CHATS.c.customer_key == key)
        await db.execute(delete(_TELEGRAM_UPDATES).where(_TELEGRAM_UPDATES.c.chat_id.in_(chats)))
        await db.execute(delete(_TELEGRAM_CHATS).where(_TELEGRAM_CHATS.c.customer_key == key))
    if key.startswith("web:") and await _has_table(db, "web_chat_credentials"):
        await db.execute(delete(_WEB_CREDENTIALS).where(_WEB_CREDENTIALS.c.customer_key == key))


async def _has_table(db: AsyncSession, name: str) -> bool:
    connection: AsyncConnection = await db.connection()
    return await connection.run_sync(lambda sync: inspect(sync).has_table(name))


async def _all(db: AsyncSession, query: Any, order: Any) -> list[Any]:
    return list(await db.scalars(query.order_by(order)))


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- command line ------------------------------------------------------------------------------


async def _run(args: argparse.Namespace) -> int:
    from core.db import create_engine, create_session_factory
    from core.settings import get_settings

    engine = create_engine(get_settings().db)
    sessions: async_sessionmaker[AsyncSession] = create_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            if args.command == "export":
                found = await export_customer(db, args.customer)
                if found is None:
                    print(f"no customer {args.customer!r}", file=sys.stderr)
                    return 1
                print(json.dumps(found, ensure_ascii=False, indent=2))
            elif args.command == "erase":
                erased = await erase_customer(db, args.customer)
                if erased is None:
                    print(f"no customer {args.customer!r}", file=sys.stderr)
                    return 1
                print(f"erased {args.customer}: {erased.sessions} sessions, {erased.messages} messages; "
                      f"{erased.orders_anonymised} orders anonymised")  # fmt: skip
            else:
                print(json.dumps(await purge_older_than(db, args.days)))
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.privacy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("export", help="print everything stored about a customer").add_argument("customer")
    erase = commands.add_parser("erase", help="delete a customer's data, anonymise their orders")
    erase.add_argument("customer")
    erase.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")
    purge = commands.add_parser("purge", help="delete transcripts and cards of contacts closed long ago")
    purge.add_argument("--days", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "erase" and not args.yes:
        print("erasing cannot be undone: add --yes", file=sys.stderr)
        return 2
    if args.command == "purge" and args.days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
