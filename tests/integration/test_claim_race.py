"""Claiming is atomic: of 20 operators claiming the same session at once, exactly one wins."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from core.db import create_engine, create_session_factory
from core.dialogue import RasaClient
from core.messages import load_system_messages
from core.migrate import upgrade_async
from core.models import ConversationSession, Customer, HandoffTicket, Operator, SessionEvent
from core.settings import PROJECT_ROOT, DbSettings, RasaSettings
from handoff.errors import TicketConflict
from handoff.service import HandoffService
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require

OPERATORS = 20


async def race(url: str, races: int) -> None:
    await upgrade_async(url)
    sqlite = url.startswith("sqlite")
    engine = (
        create_engine(DbSettings(url=url)) if sqlite else create_async_engine(url, pool_size=OPERATORS + 2)
    )
    sessions = create_session_factory(engine)
    messages = load_system_messages(PROJECT_ROOT / "business" / "system_messages.yml", "en")
    handoff = HandoffService(sessions, RasaClient(RasaSettings()), messages, serialize_claims=sqlite)
    try:
        async with sessions() as db, db.begin():
            operators = [
                Operator(login=f"op{i}", display_name=f"Op {i}", password_hash="-", max_sessions=races)
                for i in range(OPERATORS)
            ]
            customer = Customer(key="web:race")
            db.add_all([*operators, customer])
            await db.flush()
            tickets = []
            for n in range(races):
                session = ConversationSession(
                    customer_id=customer.id,
                    channel="web",
                    language="en",
                    state="queued",
                    rasa_sender_id=f"r:{n}",
                )
                db.add(session)
                await db.flush()
                ticket = HandoffTicket(session_id=session.id, reason="test", language="en", card={})
                db.add(ticket)
                tickets.append(ticket)
            await db.flush()
            ticket_ids = [t.id for t in tickets]

        async def claim(ticket_id: int, operator: Operator) -> int | None:
            try:
                await handoff.claim(ticket_id, operator)
            except TicketConflict:
                return None
            return operator.id

        winners_per_race = []
        for ticket_id in ticket_ids:
            results = await asyncio.gather(*(claim(ticket_id, op) for op in operators))
            winners_per_race.append([r for r in results if r is not None])

        assert all(len(w) == 1 for w in winners_per_race), Counter(len(w) for w in winners_per_race)
        async with sessions() as db:
            claimed = await db.scalar(
                select(func.count()).select_from(SessionEvent).where(SessionEvent.kind == "claimed")
            )
            rows = await db.execute(select(HandoffTicket.id, HandoffTicket.operator_id))
            assigned = {ticket_id: operator_id for ticket_id, operator_id in rows}
        assert claimed == races  # one state change per session: no double assignment
        assert [assigned[t] for t in ticket_ids] == [w[0] for w in winners_per_race]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_claim_race_on_postgresql() -> None:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_race_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        await race(url, races=int(os.environ.get("FRONTLINE_RACES", "1000")))
    finally:
        await asyncio.to_thread(drop_postgres_database, name)


async def test_claim_race_on_sqlite(tmp_path: Path) -> None:
    await race(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}", races=100)
