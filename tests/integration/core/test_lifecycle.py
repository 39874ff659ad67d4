"""Every transition from every start: the allowed ones happen and are recorded, every other one is
refused and changes nothing (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import lifecycle
from core.db import create_engine, create_session_factory
from core.kinds import Disposition, SessionEventKind
from core.lifecycle import Action, Outcome
from core.migrate import upgrade_async
from core.models import ConversationSession, Customer, HandoffTicket, Operator, SessionEvent, utcnow
from core.settings import DbSettings
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require

# The specification, written out here rather than read from core.lifecycle:
# (session state, ticket status, ticket kind) each transition may start from; "*" is any ticket.
WAITING = ("queued", "queued", "session")
TALKING = ("operator", "assigned", "session")
CALLBACK_DUE = ("closed", "queued", "callback")
CALLBACK_TAKEN = ("closed", "assigned", "callback")
ALLOWED: dict[Action, set[tuple[str, str, str]]] = {
    Action.QUEUE: {("bot", "*", "*")},
    Action.END_BOT_SESSION: {("bot", "*", "*")},
    Action.OFFER: {WAITING},
    Action.CLAIM: {WAITING, CALLBACK_DUE},
    Action.TRANSFER_TO_OPERATOR: {TALKING, CALLBACK_TAKEN},
    Action.TRANSFER_TO_TOPIC: {TALKING, CALLBACK_TAKEN},
    Action.LEAVE_QUEUE: {WAITING},
    Action.RETURN_TO_BOT: {TALKING},
    Action.ABANDON: {WAITING},
    Action.CONVERT_TO_CALLBACK: {WAITING},
    Action.CLOSE: {TALKING, CALLBACK_TAKEN},
    Action.OFFER_CALLBACK: {WAITING},
    Action.TAKE_OVER: {TALKING},
    Action.REASSIGN: {TALKING},
}
SESSION_STATES = ("bot", "queued", "operator", "closed")
TICKETS = (None, *itertools.product(("queued", "assigned", "closed"), ("session", "callback")))


def _allowed(action: Action, state: str, ticket: tuple[str, str] | None) -> bool:
    if (state, "*", "*") in ALLOWED[action]:
        return True
    return ticket is not None and (state, *ticket) in ALLOWED[action]


async def _card(_session: ConversationSession) -> dict[str, Any]:
    return {}


async def _act(
    db: AsyncSession, action: Action, session_id: int, ticket_id: int, anna: Operator
) -> lifecycle.Result:
    match action:
        case Action.QUEUE:
            return await lifecycle.queue(
                db, session_id, reason="asked", topic="general", summary="", card=_card
            )
        case Action.END_BOT_SESSION:
            return await lifecycle.end_bot_session(db, session_id, SessionEventKind.CLOSED, "test")
        case Action.OFFER:
            return await lifecycle.offer(db, ticket_id, anna.id)
        case Action.CLAIM:
            return await lifecycle.claim(db, ticket_id, anna, utcnow())
        case Action.TRANSFER_TO_OPERATOR:
            return await lifecycle.transfer_to_operator(db, ticket_id, anna, "reza")
        case Action.TRANSFER_TO_TOPIC:
            return await lifecycle.transfer_to_topic(db, ticket_id, anna, "billing")
        case Action.LEAVE_QUEUE:
            return await lifecycle.leave_queue(db, session_id)
        case Action.RETURN_TO_BOT:
            return await lifecycle.return_to_bot(db, ticket_id, anna)
        case Action.ABANDON:
            return await lifecycle.abandon(db, ticket_id)
        case Action.CONVERT_TO_CALLBACK:
            return await lifecycle.convert_to_callback(db, session_id, "+15550100", utcnow())
        case Action.CLOSE:
            return await lifecycle.close(db, ticket_id, anna, Disposition.RESOLVED)
        case Action.OFFER_CALLBACK:
            return await lifecycle.offer_callback(db, session_id, "long_wait")
        case Action.TAKE_OVER | Action.REASSIGN:  # Reza, as a supervisor, on Anna's conversation
            reza = await db.scalar(select(Operator).where(Operator.login == "reza"))
            assert reza is not None
            if action is Action.TAKE_OVER:
                return await lifecycle.take_over(db, ticket_id, reza)
            return await lifecycle.reassign(db, ticket_id, reza, reza.id)


class Table:
    """One database with two operators; each case gets a session (and ticket) of its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(DbSettings(url=url))
        self.db = create_session_factory(self.engine)
        self.count = 0

    async def operators(self) -> Operator:
        async with self.db() as db, db.begin():
            anna = Operator(login="anna", display_name="Anna", password_hash="-", max_sessions=10_000)
            reza = Operator(login="reza", display_name="Reza", password_hash="-", max_sessions=10_000)
            db.add_all([anna, reza, Customer(key="web:table")])
        return anna

    async def case(self, state: str, ticket: tuple[str, str] | None, anna: Operator) -> tuple[int, int]:
        self.count += 1
        async with self.db() as db, db.begin():
            customer_id = await db.scalar(select(Customer.id).where(Customer.key == "web:table"))
            session = ConversationSession(
                customer_id=customer_id,
                channel="web",
                language="en",
                state=state,
                rasa_sender_id=f"t:{self.count}",
            )
            db.add(session)
            await db.flush()
            if ticket is None:
                return session.id, 0
            status, kind = ticket
            row = HandoffTicket(
                session_id=session.id, reason="asked", language="en", card={}, status=status, kind=kind,
                operator_id=anna.id if status == "assigned" else None,
            )  # fmt: skip
            db.add(row)
            await db.flush()
            return session.id, row.id

    async def snapshot(self, session_id: int, ticket_id: int) -> tuple[Any, ...]:
        async with self.db() as db:
            session = await db.get(ConversationSession, session_id)
            ticket = await db.get(HandoffTicket, ticket_id) if ticket_id else None
            events = await db.scalar(
                select(func.count()).select_from(SessionEvent).where(SessionEvent.session_id == session_id)
            )
            tickets = await db.scalar(
                select(func.count()).select_from(HandoffTicket).where(HandoffTicket.session_id == session_id)
            )
            assert session is not None
            shown = None if ticket is None else (ticket.status, ticket.kind, ticket.operator_id, ticket.topic)
            return session.state, shown, events, tickets


async def run_table(url: str) -> None:
    await upgrade_async(url)
    table = Table(url)
    try:
        anna = await table.operators()
        for action, state, ticket in itertools.product(Action, SESSION_STATES, TICKETS):
            session_id, ticket_id = await table.case(state, ticket, anna)
            if ticket is None and action not in (Action.QUEUE, Action.END_BOT_SESSION):
                ticket_id = 10**9  # no such ticket: by id or by session, nothing to act on
            before = await table.snapshot(session_id, ticket_id if ticket is not None else 0)
            async with table.db() as db, db.begin():
                result = await _act(db, action, session_id, ticket_id, anna)
            after = await table.snapshot(session_id, ticket_id if ticket is not None else 0)
            where = (action, state, ticket, result.outcome, result.why)
            if _allowed(action, state, ticket):
                assert result.outcome is Outcome.DONE, where
                assert after[2] > before[2], where  # the change is recorded in session_events
            elif action is Action.QUEUE and (state, *(ticket or ())) == WAITING:
                assert result.outcome is Outcome.ALREADY and result.ticket is not None, where
                assert result.ticket.id == ticket_id and after == before, where
            else:
                assert result.outcome in (Outcome.NOT_ALLOWED, Outcome.NOT_YOURS, Outcome.NOT_FOUND), where
                assert after == before, where
    finally:
        await table.engine.dispose()


def test_the_specification_names_every_transition() -> None:
    assert set(ALLOWED) == set(lifecycle.ALLOWED) == set(Action)


async def test_every_transition_from_every_start_on_sqlite(tmp_path: Path) -> None:
    await run_table(f"sqlite+aiosqlite:///{tmp_path / 'table.db'}")


@pytest.mark.postgres
async def test_every_transition_from_every_start_on_postgresql() -> None:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_lifecycle_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        await run_table(url)
    finally:
        await asyncio.to_thread(drop_postgres_database, name)


async def test_only_the_operator_holding_a_ticket_acts_on_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'owner.db'}"
    await upgrade_async(url)
    table = Table(url)
    try:
        await table.operators()
        async with table.db() as db:
            reza = await db.scalar(select(Operator).where(Operator.login == "reza"))
            anna = await db.scalar(select(Operator).where(Operator.login == "anna"))
        assert reza is not None and anna is not None
        for action in lifecycle.OPERATOR_ACTIONS:
            session_id, ticket_id = await table.case("operator", ("assigned", "session"), anna)
            async with table.db() as db, db.begin():
                result = await _act(db, action, session_id, ticket_id, reza)
            assert result.outcome is Outcome.NOT_YOURS, action
    finally:
        await table.engine.dispose()
