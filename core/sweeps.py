"""The queue's periodic jobs: waits that time out, long waits offered a callback, new places announced."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.callbacks import CallbackFlow
from core.events import EventBus
from core.kinds import SessionEventKind
from core.messages import SystemMessages
from core.models import ConversationSession, HandoffTicket, SessionEvent, SessionState, utcnow
from core.repo.sessions import add_system_note
from core.repo.tickets import (
    last_position_notices,
    recent_wait_per_position,
    waiting_sessions_in_order,
    waiting_since_before,
)
from core.waiting import WaitingCustomers

logger = logging.getLogger(__name__)

# Queue-position notices written per transaction by the sweeper.
NOTICE_BATCH = 50


class QueueSweeps:
    """Each job reads what is due, then changes it through the lifecycle one wait at a time, so a
    customer or an operator acting meanwhile wins and the job skips that wait."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        messages: SystemMessages,
        bus: EventBus,
        waiting: WaitingCustomers,
        callbacks: CallbackFlow,
    ) -> None:
        self._sessions = sessions
        self._messages = messages
        self._bus = bus
        self._waiting = waiting
        self._callbacks = callbacks

    async def abandon_stale_waits(self, timeout: timedelta) -> int:
        """Close tickets nobody claimed in time: the customer is told, the wait counts as abandoned."""
        cutoff = utcnow() - timeout
        async with self._sessions() as db:
            stale = list(await db.scalars(select(HandoffTicket.id).where(*waiting_since_before(cutoff))))
        for ticket_id in stale:
            await self._abandon(ticket_id)
        return len(stale)

    async def _abandon(self, ticket_id: int) -> None:
        async with self._sessions() as db, db.begin():
            result = await lifecycle.abandon(db, ticket_id)
            if not result.done:
                return  # claimed meanwhile
            assert result.session is not None
            lang = result.session.language
            note = add_system_note(db, result.session.id, self._messages.get("queue_timeout", lang))
            await outbox.write(db, self._bus, lifecycle.live_event(result), note)
        logger.info("wait timed out ticket_id=%s", ticket_id)

    async def offer_callbacks_to_long_waits(self, after: timedelta) -> int:
        """Customers waiting longer than `after` are offered a callback, once per session."""
        cutoff = utcnow() - after
        async with self._sessions() as db:
            waiting = list(
                await db.scalars(select(HandoffTicket.session_id).where(*waiting_since_before(cutoff)))
            )
            offered = set(
                await db.scalars(
                    select(SessionEvent.session_id).where(
                        SessionEvent.session_id.in_(waiting),
                        SessionEvent.kind == SessionEventKind.CALLBACK_OFFERED,
                    )
                )
            )
        due = [session_id for session_id in waiting if session_id not in offered]
        made = 0
        for session_id in due:
            made += await self._callbacks.offer(session_id, "long_wait") is not None
        return made

    async def announce_queue_positions(self, min_interval: timedelta) -> int:
        """Waiting customers whose place changed hear it, at most once per `min_interval`.

        Positions come from one ordered query; notices are written in small batches with a pause for
        the event loop in between, so a long queue does not hold up operators' requests."""
        now = utcnow()
        async with self._sessions() as db:
            waiting = await waiting_sessions_in_order(db)
            last = await last_position_notices(db, waiting)
            due = [
                (session_id, position)
                for position, session_id in enumerate(waiting, start=1)
                if session_id not in last
                or (
                    (last[session_id].payload or {}).get("queue_position") != position
                    and now - last[session_id].created_at >= min_interval
                )
            ]
            wait = await recent_wait_per_position(db) if due else 0.0
        sent = 0
        for start in range(0, len(due), NOTICE_BATCH):
            batch = dict(due[start : start + NOTICE_BATCH])
            async with self._sessions() as db, db.begin():
                sessions = await db.scalars(
                    select(ConversationSession).where(
                        ConversationSession.id.in_(batch),
                        ConversationSession.state == SessionState.QUEUED,
                    )
                )
                notices = [self._waiting.position_notice(db, s, batch[s.id], wait) for s in sessions]
                await outbox.write(db, self._bus, *notices)
            sent += len(notices)
            await asyncio.sleep(0)
        return sent
