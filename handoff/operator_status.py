"""What each operator is doing (available, break, after-call work, offline): every change is a row.

The rows are the raw material of the time each operator spends in each status (handoff.kpi), and
the latest row per operator is their status now. Opening the console makes an offline operator
available; the last console closing (or a log-out) makes them offline. A console reloaded within
a few seconds keeps the status it had, so a reload does not end a break and bring offers. Only a
status the operator chose is a live event (`operator_status`); the automatic changes are not."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core import outbox
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind, OperatorStatus
from core.models import Base, Operator, utcnow
from handoff.kpi import Period, StatusRow
from handoff.presence import OperatorStream, Presence

logger = logging.getLogger(__name__)

# A console closed and opened again within this keeps its status (a reload, a dropped connection).
RELOAD_GRACE = timedelta(seconds=30)
# Statuses in which an operator with an open console gets no auto-offers.
AWAY = frozenset({OperatorStatus.BREAK, OperatorStatus.AFTER_CALL_WORK, OperatorStatus.OFFLINE})


class StatusCause(enum.StrEnum):
    CHOSEN = "chosen"  # the operator picked it in the console
    CONSOLE_OPENED = "console_opened"
    CONSOLE_CLOSED = "console_closed"
    LOGGED_OUT = "logged_out"


class OperatorStatusEvent(Base):
    """One change of an operator's status, with its time."""

    __tablename__ = "operator_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_operator_status_events_operator_id", "operator_id", "id"),)


@dataclass(frozen=True)
class StatusNow:
    status: OperatorStatus
    since: datetime | None  # None: never recorded (counts as available while their console is open)
    cause: str | None = None


UNKNOWN = StatusNow(OperatorStatus.OFFLINE, None)


async def current(db: AsyncSession, operator_ids: Collection[int] | None = None) -> dict[int, StatusNow]:
    """The latest status of each operator (all, or those given) that has one."""
    latest = select(func.max(OperatorStatusEvent.id)).group_by(OperatorStatusEvent.operator_id)
    if operator_ids is not None:
        latest = latest.where(OperatorStatusEvent.operator_id.in_(operator_ids))
    rows = await db.scalars(select(OperatorStatusEvent).where(OperatorStatusEvent.id.in_(latest)))
    return {r.operator_id: StatusNow(OperatorStatus(r.status), r.at, r.cause) for r in rows}


def shown(now: StatusNow | None, online: bool) -> OperatorStatus:
    """The status colleagues and supervisors see. Without an open console an operator is offline,
    whatever was recorded last (a killed process recorded no close); with one and no record, available."""
    if not online:
        return OperatorStatus.OFFLINE
    return now.status if now is not None else OperatorStatus.AVAILABLE


async def away(db: AsyncSession, operator_ids: Collection[int]) -> set[int]:
    """Of these operators, those whose status keeps auto-offers from them."""
    return {op for op, now in (await current(db, operator_ids)).items() if now.status in AWAY}


async def status_rows(db: AsyncSession, period: Period) -> list[StatusRow]:
    """The changes in a period, and each operator's last one before it (what the period starts in)."""
    before = (
        select(func.max(OperatorStatusEvent.id))
        .where(OperatorStatusEvent.at < period.since)
        .group_by(OperatorStatusEvent.operator_id)
    )
    rows = await db.execute(
        select(OperatorStatusEvent.operator_id, OperatorStatusEvent.status, OperatorStatusEvent.at).where(
            or_(
                OperatorStatusEvent.id.in_(before),
                (OperatorStatusEvent.at >= period.since) & (OperatorStatusEvent.at < period.until),
            )
        )
    )
    return [StatusRow(operator_id, status, at) for operator_id, status, at in rows]


class OperatorStatuses:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, presence: Presence) -> None:
        self._sessions = sessions
        self._bus = bus
        self._presence = presence
        self._closing: set[asyncio.Task[None]] = set()

    async def now(self, operator_id: int) -> StatusNow:
        async with self._sessions() as db:
            return (await current(db, [operator_id])).get(operator_id, UNKNOWN)

    async def all(self) -> dict[int, StatusNow]:
        async with self._sessions() as db:
            return await current(db)

    async def set(self, operator_id: int, status: OperatorStatus, cause: StatusCause) -> StatusNow:
        """Record a change (nothing when the status holds already); one the operator chose is told
        to every console at once. The automatic ones (a console opening or closing, a log-out) are
        not: presence already says who came online, every console reconnecting would otherwise
        replay them, and lists of operators are reloaded anyway."""
        async with self._sessions() as db, db.begin():
            return await _change(db, self._bus, operator_id, lambda _: status, cause)

    @asynccontextmanager
    async def console_open(self, operator_id: int) -> AsyncIterator[None]:
        """Around one open console stream, entered once its presence row is in: available as it
        opens (a console reloaded a moment ago keeps its status), offline once the operator's last
        stream has closed."""
        try:
            async with self._sessions() as db, db.begin():
                await _change(db, self._bus, operator_id, _on_opening, StatusCause.CONSOLE_OPENED)
        except Exception:  # the console works on without it: the status stays what it was
            logger.exception("operator %d not set available as their console opened", operator_id)
        try:
            yield
        finally:
            # A task of its own: a closing stream is often a cancelled one, and is not held up.
            closing = asyncio.create_task(self._console_closed(operator_id))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def _console_closed(self, operator_id: int) -> None:
        """Offline once no console of theirs is open on any process. The closed stream's own row
        may still be on its way out (its delete runs on while the stream is cancelled), so this
        looks a few times; a row that stays longer than presence's time-to-live is another tab."""
        try:
            deadline = asyncio.get_running_loop().time() + self._presence.ttl.total_seconds()
            pause = 0.05
            while not await self._offline_unless_online(operator_id):
                if asyncio.get_running_loop().time() > deadline:
                    return  # another tab, on this process or another, is still open
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
        except Exception:  # nothing waits for it: say so in the log
            logger.exception("operator %d not set offline after their console closed", operator_id)

    async def _offline_unless_online(self, operator_id: int) -> bool:
        """Offline, unless a console of theirs is open: decided under the operator's lock, which a
        console opening also takes after its presence row is in, so a reload never ends offline."""
        async with self._sessions() as db, db.begin():
            await _lock_operator(db, operator_id)
            fresh = utcnow() - self._presence.ttl
            open_elsewhere = await db.scalar(
                select(OperatorStream.key)
                .where(OperatorStream.operator_id == operator_id, OperatorStream.seen_at >= fresh)
                .limit(1)
            )
            if open_elsewhere is not None:
                return False
            await _change(
                db, self._bus, operator_id, lambda _: OperatorStatus.OFFLINE, StatusCause.CONSOLE_CLOSED
            )
            return True


def _on_opening(history: list[OperatorStatusEvent]) -> OperatorStatus:
    """Offline (or never seen) -> available; a console reloaded a moment ago keeps what it had."""
    if not history:
        return OperatorStatus.AVAILABLE
    latest = history[0]
    if latest.status != OperatorStatus.OFFLINE:
        return OperatorStatus(latest.status)  # another console of theirs is open
    reloaded = latest.cause == StatusCause.CONSOLE_CLOSED and utcnow() - latest.at < RELOAD_GRACE
    if reloaded and len(history) > 1:
        return OperatorStatus(history[1].status)
    return OperatorStatus.AVAILABLE


async def _lock_operator(db: AsyncSession, operator_id: int) -> None:
    """The operator's row, locked until the transaction ends: changes of one operator's status (two
    consoles opening or closing at once) are decided one after the other. SQLite has no row locks:
    a no-op write takes its database-wide write lock before anything is read."""
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(update(Operator).where(Operator.id == operator_id).values(id=Operator.id))
    else:
        await db.get(Operator, operator_id, with_for_update=True)


async def _change(
    db: AsyncSession,
    bus: EventBus,
    operator_id: int,
    decide: Callable[[list[OperatorStatusEvent]], OperatorStatus],
    cause: StatusCause,
) -> StatusNow:
    await _lock_operator(db, operator_id)
    history = list(
        await db.scalars(
            select(OperatorStatusEvent)
            .where(OperatorStatusEvent.operator_id == operator_id)
            .order_by(OperatorStatusEvent.id.desc())
            .limit(2)
        )
    )
    status = decide(history)
    if history and history[0].status == status:
        return StatusNow(status, history[0].at, history[0].cause)
    row = OperatorStatusEvent(operator_id=operator_id, status=status, cause=cause, at=utcnow())
    db.add(row)
    if cause is StatusCause.CHOSEN:
        data = {"operator_id": operator_id, "status": str(status), "since": row.at.isoformat()}
        await outbox.write(db, bus, LiveEvent(LiveEventKind.OPERATOR_STATUS, data))
    return StatusNow(status, row.at, cause)
