"""The live-event outbox: events stored in the transaction of the change they report, handed to
the bus once it commits, replayed by id to consoles that reconnect, pruned after a while.

An event exists if and only if its change committed: `write` inserts the rows, and the bus hears
them from the session's after-commit hook, never after a rollback. Ids follow commit order (see
migration 0007), so "everything after id N" is a complete answer at any moment.

On PostgreSQL the insert also notifies every app process (migration 0009), and a bus fed by the
process's outbox listener (core/outbox_listener.py) hears the rows from it instead of from here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from core.events import EventBus, LiveEvent, message_event
from core.kinds import LiveEventKind
from core.models import Message, OutboxEvent, utcnow

logger = logging.getLogger(__name__)

# How long events stay replayable; a console away longer is told to reload its lists.
DEFAULT_KEEP = timedelta(hours=24)
PRUNE_EVERY_S = 3600.0

# Session.info key: the (bus, event) pairs the session's transaction will publish when it commits.
_STAGED = "outbox.staged"

# A Core insert: the ORM's bulk path costs about a third of a millisecond more per transaction.
_TABLE: Any = OutboxEvent.__table__
_INSERT = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)


async def write(db: AsyncSession, bus: EventBus, *items: LiveEvent | Message | None) -> None:
    """Store events (a stored message stands for its own event; None for nothing) in `db`'s
    transaction; `bus` hears them, with their outbox ids, as soon as that transaction commits.

    Call it last in the transaction: on PostgreSQL the insert holds the outbox lock until commit."""
    if any(isinstance(item, Message) for item in items):
        await db.flush()  # a message's id and time go into its event
    events = [message_event(i) if isinstance(i, Message) else i for i in items if i is not None]
    if not events:
        return
    now = utcnow()
    rows = [{"kind": e.kind, "payload": e.data, "created_at": now} for e in events]
    ids = (await db.execute(_INSERT, rows if len(rows) > 1 else rows[0])).scalars().all()
    if bus.fed_by_listener:
        return  # the listener publishes them once they committed, with every process's events
    staged: list[tuple[EventBus, LiveEvent]] = db.info.setdefault(_STAGED, [])
    staged.extend((bus, replace(e, id=i)) for e, i in zip(events, ids, strict=True))


@event.listens_for(Session, "after_commit")
def _publish_staged(session: Session) -> None:
    # Runs in the same step of the event loop as the commit's reply, before any other task can
    # commit and publish: the bus hears events in commit order, i.e. in id order.
    for bus, staged in session.info.pop(_STAGED, ()):
        bus.publish(staged)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back or abandoned transaction: its events never happened. (After a commit the
    # list is already gone.) Savepoints are not used around events, so only the outermost counts.
    if transaction.parent is None:
        session.info.pop(_STAGED, None)


async def events_after(db: AsyncSession, last_id: int, limit: int) -> list[LiveEvent] | None:
    """What followed event `last_id`, oldest first; None when the table no longer holds that event
    (pruned, or an id from elsewhere) or more than `limit` followed it: reloading is the answer."""
    rows = (
        await db.execute(
            select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.payload)
            .where(OutboxEvent.id >= last_id)
            .order_by(OutboxEvent.id)
            .limit(limit + 2)
        )
    ).all()
    if not rows or rows[0].id != last_id or len(rows) > limit + 1:
        return None
    return [LiveEvent(LiveEventKind(kind), payload, row_id) for row_id, kind, payload in rows[1:]]


async def prune(db: AsyncSession, written_before: datetime) -> int:
    """Delete events written before a moment. What stays is every event after some id (times
    are taken before the lock that orders ids), so a replay from a kept id never skips one."""
    newest_old = (
        select(func.max(OutboxEvent.id)).where(OutboxEvent.created_at < written_before).scalar_subquery()
    )
    result: Any = await db.execute(delete(OutboxEvent).where(OutboxEvent.id <= newest_old))
    return int(result.rowcount or 0)


async def erase_sessions(db: AsyncSession, session_ids: Collection[int]) -> int:
    """Delete the events about some sessions (they copy message texts): for erasing a customer.
    A console whose last event was one of them is told to reload, as after pruning."""
    about = OutboxEvent.payload["session_id"].as_integer().in_(session_ids)
    result: Any = await db.execute(delete(OutboxEvent).where(about))
    return int(result.rowcount or 0)


async def prune_periodically(
    db_sessions: async_sessionmaker[AsyncSession], keep: timedelta = DEFAULT_KEEP
) -> None:
    """A background task: every hour, events older than `keep` go."""
    while True:
        async with db_sessions() as db, db.begin():
            pruned = await prune(db, utcnow() - keep)
        logger.info("live event outbox pruned rows=%d keep=%s", pruned, keep)
        await asyncio.sleep(PRUNE_EVERY_S)
