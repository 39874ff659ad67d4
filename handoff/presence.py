"""Which operators have a console open right now, and since when: across every app process on one database.

An open live stream is a row of `operator_streams`, written when the stream opens and deleted when
it closes. The process holding the stream renews the row's `seen_at` every heartbeat; a row not
renewed for three heartbeats (its process was killed, or lost the database) stops counting and is
deleted by whichever process renews next. So an operator is online for every process while their
console's stream is open on any of them, and a dead process's consoles drop out within the TTL.
The same table serves SQLite (one app process) and PostgreSQL (several).

Opening a stream also sends the `operator_online` live event with the row's own transaction
(core.live_notices), so colleagues' consoles and the auto-offer loop on every process hear of the
operator at once. Time is each process's clock: app processes' clocks must agree to well within
the TTL (NTP does).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core import live_notices
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from core.models import Base, utcnow

logger = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
# A stream whose row was not renewed for this many heartbeats no longer counts.
MISSED_HEARTBEATS = 3


class OperatorStream(Base):
    """One open console stream, on whichever app process holds it."""

    __tablename__ = "operator_streams"

    # Chosen by the holding process, so it can put back a row deleted while it could not renew.
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    process: Mapped[str] = mapped_column(String(120))  # which process holds it: for a person to read
    # When the operator came online: carried over from their streams already open anywhere.
    online_since: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class _Held:
    operator_id: int
    online_since: datetime


class Presence:
    """Open console streams per operator: several tabs (on any processes) are one operator, online
    until the last closes or stops being renewed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus | None = None,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        missed_heartbeats: int = MISSED_HEARTBEATS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._bus = bus  # None: no `operator_online` events (presence alone)
        self._heartbeat_s = heartbeat_s
        self.ttl = timedelta(seconds=heartbeat_s * missed_heartbeats)
        self._clock = clock
        self.process = f"{socket.gethostname()} pid {os.getpid()} {secrets.token_hex(4)}"
        self._held: dict[str, _Held] = {}  # this process's open streams, by row key
        self._closing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def online(self, operator_id: int) -> AsyncIterator[None]:
        key = await self._open(operator_id)
        try:
            yield
        finally:
            del self._held[key]  # not renewed from now on: gone after the TTL even if the delete fails
            # A closing stream is often a cancelled one: the delete finishes even so.
            closing = asyncio.create_task(self._close(key))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            await asyncio.shield(closing)

    async def since(self) -> dict[int, datetime]:
        """Online operators (on any process) and when they came online: one query on the index."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(OperatorStream.operator_id, func.min(OperatorStream.online_since))
                .where(OperatorStream.seen_at >= self._clock() - self.ttl)
                .group_by(OperatorStream.operator_id)
            )
            return {operator_id: since for operator_id, since in rows}

    async def keep_fresh(self) -> None:
        """A background task: renews this process's streams every heartbeat; when it ends (the
        app stops), its streams stop counting at once."""
        try:
            while True:
                await asyncio.sleep(self._heartbeat_s)
                try:
                    await self.renew()
                except Exception:  # a database hiccup must not end the heartbeat
                    logger.exception("presence heartbeat failed")
        finally:
            await asyncio.shield(self._forget_process())

    async def renew(self) -> None:
        """One heartbeat: this process's rows are seen now (put back if another process deleted
        them meanwhile), and rows nobody renews any more are deleted."""
        held, now = dict(self._held), self._clock()
        async with self._sessions() as db, db.begin():
            await db.execute(delete(OperatorStream).where(OperatorStream.seen_at < now - self.ttl))
            if not held:
                return
            renewed = set(
                await db.scalars(
                    update(OperatorStream)
                    .where(OperatorStream.key.in_(held))
                    .values(seen_at=now)
                    .returning(OperatorStream.key)
                )
            )
            for key in held.keys() - renewed:
                logger.warning("presence row of operator %d was dropped; put back", held[key].operator_id)
                db.add(self._row(key, held[key], now))

    async def _open(self, operator_id: int) -> str:
        key, now = secrets.token_hex(16), self._clock()
        async with self._sessions() as db, db.begin():
            earlier = await db.scalar(
                select(func.min(OperatorStream.online_since)).where(
                    OperatorStream.operator_id == operator_id, OperatorStream.seen_at >= now - self.ttl
                )
            )
            held = _Held(operator_id, earlier or now)
            db.add(self._row(key, held, now))
            if self._bus is not None:
                online = LiveEvent(LiveEventKind.OPERATOR_ONLINE, {"operator_id": operator_id})
                await live_notices.send(db, self._bus, online)
        self._held[key] = held
        return key

    def _row(self, key: str, held: _Held, now: datetime) -> OperatorStream:
        return OperatorStream(
            key=key,
            operator_id=held.operator_id,
            process=self.process,
            online_since=held.online_since,
            seen_at=now,
        )

    async def _close(self, key: str) -> None:
        try:
            async with self._sessions() as db, db.begin():
                await db.execute(delete(OperatorStream).where(OperatorStream.key == key))
        except Exception:  # the row stops counting after the TTL anyway
            logger.exception("presence row not deleted")

    async def _forget_process(self) -> None:
        try:
            async with self._sessions() as db, db.begin():
                await db.execute(delete(OperatorStream).where(OperatorStream.process == self.process))
        except Exception:
            logger.exception("presence rows of this process not deleted")
