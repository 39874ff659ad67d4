"""A session's Rasa sender id moves to a fresh conversation only while the bot has the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.models import ConversationSession, Customer, SessionState
from core.repo.sessions import new_rasa_sender_id, open_session, switch_rasa_sender
from core.settings import DbSettings


@pytest.fixture
async def db_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}"
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _session(db_sessions: async_sessionmaker[AsyncSession]) -> ConversationSession:
    async with db_sessions() as db, db.begin():
        customer = Customer(key="web:long-talker")
        db.add(customer)
        await db.flush()
        return await open_session(db, customer, "web", "en")


async def test_a_fresh_sender_id_names_the_same_session_and_never_repeats(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await _session(db_sessions)
    fresh = {new_rasa_sender_id(session) for _ in range(50)} | {session.rasa_sender_id}
    assert len(fresh) == 51
    prefix = f"web:{session.customer_id}:{session.id}:"
    assert all(sender.startswith(prefix) for sender in fresh)


async def test_the_sender_id_switches_in_bot_mode_from_the_id_in_use_only(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await _session(db_sessions)
    old, new = session.rasa_sender_id, new_rasa_sender_id(session)
    async with db_sessions() as db, db.begin():
        assert not await switch_rasa_sender(db, session.id, "web:someone-else", new)
        assert await switch_rasa_sender(db, session.id, old, new)
        # A second process that read the old id too must not switch again.
        assert not await switch_rasa_sender(db, session.id, old, new_rasa_sender_id(session))
    async with db_sessions() as db:
        stored = await db.get(ConversationSession, session.id)
        assert stored is not None and stored.rasa_sender_id == new


async def test_a_session_with_people_keeps_its_conversation(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await _session(db_sessions)
    async with db_sessions() as db, db.begin():
        stored = await db.get(ConversationSession, session.id)
        assert stored is not None
        stored.state = SessionState.QUEUED.value
    async with db_sessions() as db, db.begin():
        assert not await switch_rasa_sender(db, session.id, session.rasa_sender_id, "web:x:y:z")
    async with db_sessions() as db:
        stored = await db.get(ConversationSession, session.id)
        assert stored is not None and stored.rasa_sender_id == session.rasa_sender_id
