"""A customer's data on request (export), erased on request, and purged after the retention period."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channel_data import register_channels
from app.chat_credentials import WebChatCredential
from app.privacy import main
from bot.telegram.models import TelegramChat, TelegramUpdate
from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.models import ConversationSession, Customer, HandoffTicket, Message, Order, OutboxEvent, utcnow
from core.privacy import (
    CHANNEL_DATA,
    ChannelData,
    erase_customer,
    export_customer,
    purge_older_than,
)
from core.settings import PROJECT_ROOT, DbSettings
from tests.chat import FrontLine


async def _customer_with_history(front_line: FrontLine, name: str) -> tuple[str, int]:
    customer = front_line.customer(name)
    reply = await customer.say(f"this is {name}, call me on +7 916 123 45 67, my router is dead")
    async with front_line.db() as db, db.begin():
        card = await db.scalar(select(Customer).where(Customer.key == f"web:{customer.id}"))
        assert card is not None
        db.add(
            Order(
                number=f"9{card.id:06d}",
                customer_id=card.id,
                full_name=f"{name} Petrova",
                phone="+79161234567",
                address="5 Garden Ring, Moscow",
                tariff_code="home_300",
                visit_date=date(2027, 1, 5),
            )
        )
    return f"web:{customer.id}", reply["session_id"]


async def test_export_holds_what_is_stored_about_the_customer(front_line_without_bot: FrontLine) -> None:
    key, _ = await _customer_with_history(front_line_without_bot, "anna")
    async with front_line_without_bot.db() as db:
        exported = await export_customer(db, key)
        assert await export_customer(db, "web:nobody") is None
    assert exported is not None
    assert exported["customer"]["key"] == key
    texts = [m["text"] for s in exported["sessions"] for m in s["messages"]]
    assert any("+7 916 123 45 67" in t for t in texts)
    assert exported["orders"][0]["address"] == "5 Garden Ring, Moscow"
    assert exported["tickets"] and exported["tickets"][0]["card"]["transcript"]


async def test_erasing_a_customer_leaves_no_trace_but_an_anonymous_order(
    front_line_without_bot: FrontLine,
) -> None:
    front_line = front_line_without_bot
    key, session_id = await _customer_with_history(front_line, "anna")
    other_key, other_session = await _customer_with_history(front_line, "boris")
    async with front_line.db() as db, db.begin():
        erased = await erase_customer(db, key)
    assert erased is not None and erased.sessions == 1 and erased.orders_anonymised == 1
    async with front_line.db() as db:
        assert await db.scalar(select(Customer).where(Customer.key == key)) is None
        assert await db.get(ConversationSession, session_id) is None
        left = list(await db.scalars(select(Message.text)))
        assert not any("anna" in t for t in left) and any("boris" in t for t in left)
        live = [str(p) for p in await db.scalars(select(OutboxEvent.payload))]  # what consoles replay
        assert not any("anna" in t for t in live) and any("boris" in t for t in live)
        assert await db.scalar(select(func.count()).select_from(HandoffTicket)) == 1  # boris's
        orders = {o.full_name: o for o in await db.scalars(select(Order))}
        assert set(orders) == {"[erased]", "boris Petrova"}
        assert orders["[erased]"].address == "[erased]" and orders["[erased]"].phone == ""
        assert await db.get(ConversationSession, other_session) is not None
    assert other_key != key
    # The web customer id is free again: a new conversation gets a new token.
    again = await front_line.http.post("/api/chat", json={"customer": key.removeprefix("web:"), "text": "hi"})
    assert again.status_code == 200 and again.json()["token"]


async def test_purge_deletes_old_transcripts_and_cards_but_keeps_orders(
    front_line_without_bot: FrontLine,
) -> None:
    front_line = front_line_without_bot
    _, old_session = await _customer_with_history(front_line, "anna")
    _, new_session = await _customer_with_history(front_line, "boris")
    async with front_line.db() as db, db.begin():
        session = await db.get(ConversationSession, old_session)
        assert session is not None
        session.state, session.last_activity_at = "closed", utcnow() - timedelta(days=100)
    async with front_line.db() as db, db.begin():
        purged = await purge_older_than(db, days=90)
    assert purged["messages"] >= 1 and purged["cards"] == 1
    async with front_line.db() as db:
        assert await front_line.customer_texts(old_session) == []
        assert await front_line.customer_texts(new_session)
        old_ticket = await front_line.ticket(old_session)
        assert old_ticket is not None and old_ticket.card == {} and old_ticket.reason  # figures stay
        assert await db.scalar(select(func.count()).select_from(Order)) == 2


def test_erase_asks_for_confirmation() -> None:
    assert main(["erase", "web:anna"]) == 2
    assert main(["purge", "--days", "0"]) == 2


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'privacy.db'}"


@pytest.fixture
async def db_sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database with every table (the core's and the channels'), and no app around it:
    the channels are registered as `python -m app.privacy` registers them."""
    url = db_url
    register_channels()
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    yield create_session_factory(engine)
    await engine.dispose()


def _update(update_id: int, chat_id: int, name: str, status: str, days_ago: int) -> TelegramUpdate:
    message = {"chat": {"id": chat_id}, "from": {"id": chat_id, "first_name": name}, "text": "hi"}
    return TelegramUpdate(
        update_id=update_id, fingerprint=f"m:{update_id}", chat_id=chat_id, payload={"message": message},
        status=status, received_at=utcnow() - timedelta(days=days_ago),
    )  # fmt: skip


async def test_erasing_a_telegram_customer_removes_their_chat_and_raw_updates(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        for chat_id, name in ((111, "Anna"), (222, "Boris")):
            db.add(Customer(key=f"tg:{chat_id}", full_name=name))
            db.add(TelegramChat(chat_id=chat_id, customer_key=f"tg:{chat_id}"))
            db.add(_update(chat_id, chat_id, name, "handled", days_ago=0))
    async with db_sessions() as db, db.begin():
        assert await erase_customer(db, "tg:111") is not None
    async with db_sessions() as db:
        assert list(await db.scalars(select(TelegramChat.customer_key))) == ["tg:222"]
        raw = [str(p) for p in await db.scalars(select(TelegramUpdate.payload))]
        assert len(raw) == 1 and "Boris" in raw[0]


async def test_erasing_a_web_customer_removes_their_chat_credential(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        for key in ("web:anna@example.org", "web:boris"):
            db.add(Customer(key=key))
            db.add(WebChatCredential(customer_key=key, token_sha256="0" * 64))
    async with db_sessions() as db, db.begin():
        assert await erase_customer(db, "web:anna@example.org") is not None
    async with db_sessions() as db:
        assert list(await db.scalars(select(WebChatCredential.customer_key))) == ["web:boris"]


async def test_purge_deletes_old_handled_telegram_updates_and_keeps_unhandled_ones(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as db, db.begin():
        db.add(_update(1, 111, "Anna", "handled", days_ago=100))
        db.add(_update(2, 111, "Anna", "failed", days_ago=100))
        db.add(_update(3, 111, "Anna", "received", days_ago=100))  # never handled: still to do
        db.add(_update(4, 111, "Anna", "handled", days_ago=10))
    async with db_sessions() as db, db.begin():
        purged = await purge_older_than(db, days=90)
    assert purged["telegram_updates"] == 2
    async with db_sessions() as db:
        assert sorted(await db.scalars(select(TelegramUpdate.update_id))) == [3, 4]


async def test_erasing_a_customer_erases_what_each_registered_channel_keeps(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel's own table is cleared through its registration; a channel whose tables this
    database lacks is left out."""
    erased_by_channel: list[str] = []

    async def erase_fax_number(db: AsyncSession, customer_key: str) -> None:
        erased_by_channel.append(customer_key)
        await db.execute(text("DELETE FROM fax_numbers WHERE customer_key = :key"), {"key": customer_key})

    async def never(db: AsyncSession, customer_key: str) -> None:
        raise AssertionError("a channel without its tables is not asked")

    monkeypatch.setitem(CHANNEL_DATA, "fax", ChannelData(tables=("fax_numbers",), erase=erase_fax_number))
    monkeypatch.setitem(CHANNEL_DATA, "pager", ChannelData(tables=("pager_ids",), erase=never))
    async with db_sessions() as db, db.begin():
        await db.execute(text("CREATE TABLE fax_numbers (customer_key VARCHAR(160), number VARCHAR(32))"))
        for key in ("fax:anna", "fax:boris"):
            db.add(Customer(key=key))
            await db.execute(text("INSERT INTO fax_numbers VALUES (:key, '+15550100')"), {"key": key})
    async with db_sessions() as db, db.begin():
        assert await erase_customer(db, "fax:anna") is not None
    async with db_sessions() as db:
        left = list(await db.scalars(text("SELECT customer_key FROM fax_numbers")))
    assert left == ["fax:boris"] and erased_by_channel == ["fax:anna"]


async def test_the_command_erases_telegram_data_without_the_app(
    db_sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    async with db_sessions() as db, db.begin():
        db.add(Customer(key="tg:111", full_name="Anna"))
        db.add(TelegramChat(chat_id=111, customer_key="tg:111"))
        db.add(_update(111, 111, "Anna", "handled", days_ago=0))
    command = [sys.executable, "-m", "app.privacy", "erase", "tg:111", "--yes"]
    env = {**os.environ, "FRONTLINE_DB__URL": db_url}
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(TelegramChat)) == 0
        assert await db.scalar(select(func.count()).select_from(TelegramUpdate)) == 0
