"""The live-event outbox on SQLite and PostgreSQL: an event exists if and only if its change
committed, ids follow commit order, a replay says when it cannot be given, old rows are pruned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.db import create_engine, create_session_factory
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from core.migrate import alembic_config
from core.models import Customer, OutboxEvent, utcnow
from core.settings import DbSettings

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(DbSettings(url=db_url))
    yield create_session_factory(engine)
    await engine.dispose()


def _queued(ticket_id: int) -> LiveEvent:
    return LiveEvent(LiveEventKind.TICKET_QUEUED, {"ticket_id": ticket_id, "session_id": 1})


async def _write(sessions: Sessions, bus: EventBus, *events: LiveEvent) -> None:
    async with sessions() as db, db.begin():
        await outbox.write(db, bus, *events)


async def _stored(sessions: Sessions) -> list[tuple[int, str, dict[str, object]]]:
    async with sessions() as db:
        rows = await db.execute(select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.payload).order_by("id"))
        return [(i, k, p) for i, k, p in rows]


async def test_the_bus_hears_an_event_with_its_stored_id_once_its_change_committed(
    sessions: Sessions,
) -> None:
    bus = EventBus()
    async with bus.subscribe() as heard:
        async with sessions() as db, db.begin():
            db.add(Customer(key="web:outbox"))
            await outbox.write(db, bus, _queued(7), None, _queued(8))
            assert heard.empty()  # not before the change is there for everyone to read
        first, second = heard.get_nowait(), heard.get_nowait()
    assert heard.empty()
    assert [(first.id, first.kind, first.data), (second.id, second.kind, second.data)] == [
        (row_id, kind, payload) for row_id, kind, payload in await _stored(sessions)
    ]
    assert first.id is not None and second.id is not None and first.id < second.id


async def test_an_event_of_a_rolled_back_transaction_never_reaches_anyone(sessions: Sessions) -> None:
    bus = EventBus()
    await _write(sessions, bus, _queued(1))
    async with bus.subscribe() as heard:
        with pytest.raises(RuntimeError):
            async with sessions() as db, db.begin():
                await outbox.write(db, bus, _queued(2))
                raise RuntimeError("the change fails after its event was written")
        async with sessions() as db:  # a session closed without committing
            await outbox.write(db, bus, _queued(3))
        async with sessions() as db:  # one session: a failed transaction, then a good one
            with pytest.raises(RuntimeError):
                async with db.begin():
                    await outbox.write(db, bus, _queued(3))
                    raise RuntimeError("this change fails too")
            async with db.begin():
                await outbox.write(db, bus, _queued(4))
        assert heard.get_nowait().data["ticket_id"] == 4
        assert heard.empty()
    assert [payload["ticket_id"] for _, _, payload in await _stored(sessions)] == [1, 4]
    async with sessions() as db:
        first = (await _stored(sessions))[0][0]
        replay = await outbox.events_after(db, first, 10)
    assert [e.data["ticket_id"] for e in replay or []] == [4]


async def test_an_event_written_first_is_never_visible_after_a_later_one(sessions: Sessions) -> None:
    """Two changes at once: the one that wrote its event later cannot commit before the first
    does, so a console that saw the later id has been given the earlier one too."""
    bus = EventBus()
    first_written = asyncio.Event()

    async def slow() -> None:
        async with sessions() as db, db.begin():
            await outbox.write(db, bus, _queued(1))
            first_written.set()
            await asyncio.sleep(0.5)

    async with bus.subscribe() as heard:
        slow_change = asyncio.create_task(slow())
        await first_written.wait()
        quick_change = asyncio.create_task(_write(sessions, bus, _queued(2)))
        await asyncio.sleep(0.25)
        assert not quick_change.done()  # waits for the first to commit
        assert await _stored(sessions) == []
        await asyncio.gather(slow_change, quick_change)
        order = [heard.get_nowait(), heard.get_nowait()]
    assert [e.data["ticket_id"] for e in order] == [1, 2]
    assert [row[2]["ticket_id"] for row in await _stored(sessions)] == [1, 2]
    assert order[0].id is not None and order[1].id is not None and order[0].id < order[1].id


async def test_a_replay_is_refused_when_its_start_is_pruned_unknown_or_too_far_back(
    sessions: Sessions,
) -> None:
    bus = EventBus()
    for n in range(5):
        await _write(sessions, bus, _queued(n))
    ids = [row[0] for row in await _stored(sessions)]
    async with sessions() as db:
        assert [e.id for e in await outbox.events_after(db, ids[1], 10) or []] == ids[2:]
        assert await outbox.events_after(db, ids[-1], 10) == []  # nothing missed
        assert await outbox.events_after(db, ids[1], 2) is None  # three missed: reload instead
        assert await outbox.events_after(db, ids[-1] + 1000, 10) is None  # not an id of ours
        assert await outbox.events_after(db, 0, 10) is None


async def test_pruning_removes_old_events_and_keeps_every_one_after_a_kept_one(sessions: Sessions) -> None:
    bus = EventBus()
    for n in range(4):
        await _write(sessions, bus, _queued(n))
    ids = [row[0] for row in await _stored(sessions)]
    async with sessions() as db, db.begin():
        # Two days old, except the third, whose time came out a moment before the second's.
        old = utcnow() - timedelta(days=2)
        await db.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids[:2])).values(created_at=old))
        await db.execute(
            update(OutboxEvent).where(OutboxEvent.id == ids[2]).values(created_at=old - timedelta(seconds=1))
        )
    async with sessions() as db, db.begin():
        assert await outbox.prune(db, utcnow() - outbox.DEFAULT_KEEP) == 3
    assert [row[0] for row in await _stored(sessions)] == ids[3:]
    async with sessions() as db:
        assert await outbox.events_after(db, ids[1], 10) is None  # pruned: the console reloads
    await _write(sessions, bus, _queued(9))
    async with sessions() as db, db.begin():
        assert await outbox.prune(db, utcnow() - outbox.DEFAULT_KEEP) == 0
    assert len(await _stored(sessions)) == 2


async def test_the_outbox_ids_are_never_reused_after_pruning(sessions: Sessions) -> None:
    bus = EventBus()
    await _write(sessions, bus, _queued(1), _queued(2))
    newest = (await _stored(sessions))[-1][0]
    async with sessions() as db, db.begin():
        await outbox.prune(db, utcnow() + timedelta(seconds=1))
    assert await _stored(sessions) == []
    await _write(sessions, bus, _queued(3))
    assert (await _stored(sessions))[0][0] > newest


async def test_the_background_task_prunes_old_events_as_it_starts(sessions: Sessions) -> None:
    bus = EventBus()
    await _write(sessions, bus, _queued(1), _queued(2))
    async with sessions() as db, db.begin():
        await db.execute(update(OutboxEvent).values(created_at=utcnow() - timedelta(hours=25)))
    await _write(sessions, bus, _queued(3))
    task = asyncio.create_task(outbox.prune_periodically(sessions, keep=timedelta(hours=24)))
    try:
        async with asyncio.timeout(10):
            while len(await _stored(sessions)) > 1:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert [row[2]["ticket_id"] for row in await _stored(sessions)] == [3]


async def test_erasing_a_customer_removes_the_events_that_quote_their_sessions(sessions: Sessions) -> None:
    bus = EventBus()
    said = {"direction": "in", "text": "my address is 7 Elm Street"}
    await _write(
        sessions,
        bus,
        LiveEvent(LiveEventKind.MESSAGE, {"session_id": 5, "message": said}),
        LiveEvent(LiveEventKind.TICKET_QUEUED, {"ticket_id": 1, "session_id": 5}),
        LiveEvent(LiveEventKind.MESSAGE, {"session_id": 6, "message": {"text": "someone else"}}),
        LiveEvent(LiveEventKind.TICKET_CLOSED, {"ticket_id": 2}),
    )
    async with sessions() as db, db.begin():
        assert await outbox.erase_sessions(db, [5]) == 2
    kept = [payload for _, _, payload in await _stored(sessions)]
    assert "7 Elm Street" not in str(kept) and len(kept) == 2


async def test_the_migrations_match_the_outbox_model(db_url: str) -> None:
    await asyncio.to_thread(command.check, alembic_config(db_url))
