"""Outgoing messages are delivered by id (Telegram's cursor, the web chat's `after`): on PostgreSQL
an outgoing message's id must follow commit order, or a reply committed a moment after a later
one falls behind a cursor that already passed it and is never delivered."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.kinds import Direction, MessageAuthor
from core.migrate import upgrade_async
from core.models import ConversationSession, Message
from core.repo.customers import get_or_create_customer
from core.repo.sessions import add_message, add_system_note, open_session
from core.settings import DbSettings
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db_sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_message_order_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    engine = create_engine(DbSettings(url=url))
    try:
        await upgrade_async(url)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
        await asyncio.to_thread(drop_postgres_database, name)


async def _session_id(db_sessions: async_sessionmaker[AsyncSession]) -> int:
    async with db_sessions() as db, db.begin():
        customer = await get_or_create_customer(db, "tg:42", "ru")
        return (await open_session(db, customer, "telegram", "ru")).id


async def _sent_after(db_sessions: async_sessionmaker[AsyncSession], session_id: int) -> list[str]:
    """What a channel that has sent nothing yet would send now, in order."""
    async with db_sessions() as db:
        rows = await db.scalars(
            select(Message.text)
            .where(Message.session_id == session_id, Message.direction == Direction.OUT, Message.id > 0)
            .order_by(Message.id)
        )
        return list(rows)


async def test_a_reply_committed_after_a_later_written_notice_is_not_passed_by_the_cursor(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    session_id = await _session_id(db_sessions)
    # The operator's reply is written first and its transaction is still open...
    reply_tx = db_sessions()
    await reply_tx.begin()
    add_message(reply_tx, session_id, Direction.OUT, MessageAuthor.OPERATOR, "Ваш заказ уже в пути")
    await reply_tx.flush()

    async def notice() -> None:  # ...when a system notice to the same customer is written
        async with db_sessions() as db, db.begin():
            add_system_note(db, session_id, "Оператор Bilal подключился к чату")

    writing = asyncio.create_task(notice())
    await asyncio.sleep(0.5)
    # A delivery now must not see the notice alone: its cursor would pass the reply for good.
    seen_now = await _sent_after(db_sessions, session_id)
    await reply_tx.commit()
    await reply_tx.close()
    await writing
    assert seen_now == [], "the notice committed ahead of the reply written before it"
    assert await _sent_after(db_sessions, session_id) == [
        "Ваш заказ уже в пути",
        "Оператор Bilal подключился к чату",
    ]


async def test_customers_messages_take_no_lock(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    """A customer's message is stored at once even while an outgoing message's transaction is open."""
    session_id = await _session_id(db_sessions)
    open_tx = db_sessions()
    await open_tx.begin()
    add_message(open_tx, session_id, Direction.OUT, MessageAuthor.BOT, "Чем могу помочь?")
    await open_tx.flush()
    try:
        async with asyncio.timeout(5), db_sessions() as db, db.begin():
            add_message(db, session_id, Direction.IN, MessageAuthor.CUSTOMER, "где мой заказ ۱۲۳")
    finally:
        await open_tx.rollback()
        await open_tx.close()


async def test_a_notice_written_while_a_lifecycle_change_holds_the_session_waits_without_deadlock(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A claim locks the session row, then writes "operator joined"; a notice to the same customer
    written meanwhile waits for the claim to end, and neither is aborted as a deadlock."""
    session_id = await _session_id(db_sessions)
    claim = db_sessions()
    await claim.begin()
    await claim.get(ConversationSession, session_id, with_for_update=True)

    async def still_waiting() -> None:
        async with db_sessions() as db, db.begin():
            add_system_note(db, session_id, "Вы вторые в очереди")

    notice = asyncio.create_task(still_waiting())
    await asyncio.sleep(0.3)
    add_system_note(claim, session_id, "Оператор Bilal подключился к чату")
    async with asyncio.timeout(5):
        await claim.commit()
        await claim.close()
        await notice
    assert await _sent_after(db_sessions, session_id) == [
        "Оператор Bilal подключился к чату",
        "Вы вторые в очереди",
    ]
