"""Phone calls (ivr/): a call is a session from the moment it is answered, until it ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.events import EventBus
from core.kinds import Direction, MessageAuthor, SessionEventKind
from core.locks import CustomerLocks
from core.models import utcnow
from core.repo.customers import fill_customer_card, get_or_create_customer
from core.repo.sessions import add_message, customer_and_open_session, is_idle, open_session


class CallSessions:
    """What the voice channel does to a session beyond turns; its turns go through the conversation."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        customer_locks: CustomerLocks,
        session_idle_minutes: int,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        # The conversation's own: a call starting and a turn of the same customer never interleave.
        self._locks = customer_locks
        self._idle_minutes = session_idle_minutes

    async def start_call(self, customer_key: str, *, channel: str, language: str, phone: str | None) -> int:
        """Open (or continue) the caller's session before a word is said; the caller's number goes
        on the customer card, so orders placed with that number are found. Returns the session id."""
        async with self._locks.hold(customer_key), self._sessions() as db, db.begin():
            customer, session = await customer_and_open_session(db, customer_key)
            if customer is None:
                customer = await get_or_create_customer(db, customer_key, language)
            if phone:
                await fill_customer_card(db, customer.id, None, verified_phone=phone)
            now = utcnow()
            if session is not None and is_idle(session, now, self._idle_minutes):
                session = await lifecycle.close_idle(db, session)
            if session is None:
                session = await open_session(db, customer, channel, language)
            session.last_activity_at = now
            return session.id

    async def note_call_exchange(
        self,
        session_id: int,
        *,
        heard: str | None = None,
        said: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """What the phone menu heard (keys) and said, stored like chat turns for the context card."""
        async with self._sessions() as db, db.begin():
            stored = []
            if heard:
                stored.append(
                    add_message(db, session_id, Direction.IN, MessageAuthor.CUSTOMER, heard, metadata or None)
                )
            if said:
                stored.append(add_message(db, session_id, Direction.OUT, MessageAuthor.BOT, said))
            await outbox.write(db, self._bus, *stored)

    async def end_call(self, session_id: int, *, abandoned: bool, by: str) -> None:
        """The call is over: a session still with the bot closes; a silent line counts as abandoned.
        A queued session stays queued (the operator calls back or takes the transferred call)."""
        kind = SessionEventKind.ABANDONED if abandoned else SessionEventKind.CLOSED
        async with self._sessions() as db, db.begin():
            await lifecycle.end_bot_session(db, session_id, kind, by)
