"""A console's stream ticket works once and only within its time; the table keeps no ticket or token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.models import Operator
from core.settings import DbSettings
from handoff.passwords import token_digest
from handoff.stream_tickets import Holder, StreamTicket, StreamTickets


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_ticket_works_once_within_its_time_and_only_its_digest_is_stored(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}"
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    sessions = create_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            anna = Operator(login="anna", display_name="Anna", password_hash="-", skills=[], languages=[])
            db.add(anna)
        clock = Clock()
        tickets = StreamTickets(sessions, ttl_s=60, clock=clock)

        ticket = await tickets.issue(anna.id, "anna's log-in token")
        async with sessions() as db:
            stored = (await db.execute(select(StreamTicket.ticket_hash, StreamTicket.token_hash))).one()
        assert ticket not in stored and "anna's log-in token" not in stored
        assert await tickets.redeem(ticket) == Holder(anna.id, token_digest("anna's log-in token"))
        assert await tickets.redeem(ticket) is None  # used

        late = await tickets.issue(anna.id, "anna's log-in token")
        clock.now += timedelta(seconds=61)
        assert await tickets.redeem(late) is None  # expired
        assert await tickets.redeem("a ticket nobody issued") is None
    finally:
        await engine.dispose()
