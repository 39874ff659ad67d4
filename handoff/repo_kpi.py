"""Loads what the KPI replay needs for a period: the full event history of the sessions that matter.

A session matters when it has an event in the period, or when it was still waiting in the queue
when the period started (it is part of the queue length at the end). Whole histories are loaded,
not only the period's rows, because a close in the period must know whether the session was ever
handed off and a handle time ending in the period may have started before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import SessionEventKind as Kind
from core.models import ConversationSession, HandoffTicket, SessionEvent
from handoff.kpi import EventRow, KpiData, Period, SessionRow, TicketRow

# Event kinds after which a session waits for an operator, and those that end the wait. A transfer
# may or may not re-queue (to a topic or to a person): loading one session too many is harmless.
_STARTS_WAITING = (Kind.HANDOFF_REQUESTED, Kind.TRANSFERRED)
_ENDS_WAITING = (Kind.CLAIMED, Kind.ABANDONED, Kind.CLOSED, Kind.CALLBACK_REQUESTED)


async def load_kpi_data(db: AsyncSession, period: Period) -> KpiData:
    """Events (before the period's end), sessions and tickets of every session that matters."""
    since, until = _utc(period.since), _utc(period.until)
    ids = union(_active_in(since, until), _waiting_at(since)).subquery()
    wanted = select(ids.c.session_id)
    events = await db.execute(
        select(
            SessionEvent.session_id,
            SessionEvent.kind,
            SessionEvent.created_at,
            SessionEvent.detail,
            SessionEvent.to_state,
        )
        .where(SessionEvent.session_id.in_(wanted), SessionEvent.created_at < until)
        .order_by(SessionEvent.created_at, SessionEvent.id)
    )
    sessions = await db.execute(
        select(
            ConversationSession.id,
            ConversationSession.customer_id,
            ConversationSession.channel,
            ConversationSession.language,
            ConversationSession.started_at,
        ).where(ConversationSession.id.in_(wanted))
    )
    tickets = await db.execute(
        select(
            HandoffTicket.id,
            HandoffTicket.session_id,
            HandoffTicket.topic,
            HandoffTicket.language,
            HandoffTicket.operator_id,
        ).where(HandoffTicket.session_id.in_(wanted))
    )
    return KpiData(
        events=[EventRow(sid, Kind(kind), at, _detail(det), to) for sid, kind, at, det, to in events],
        sessions=[SessionRow(sid, cid, ch, lang, at) for sid, cid, ch, lang, at in sessions],
        tickets=[TicketRow(*row) for row in tickets],
    )


def _active_in(since: datetime, until: datetime) -> Select[tuple[int]]:
    return select(SessionEvent.session_id).where(
        SessionEvent.created_at >= since, SessionEvent.created_at < until
    )


def _waiting_at(moment: datetime) -> Select[tuple[int]]:
    """Sessions whose last wait started before `moment` had not ended by then."""
    started = func.max(case((SessionEvent.kind.in_(_STARTS_WAITING), SessionEvent.created_at)))
    ended = func.max(case((SessionEvent.kind.in_(_ENDS_WAITING), SessionEvent.created_at)))
    return (
        select(SessionEvent.session_id)
        .where(SessionEvent.created_at < moment)
        .group_by(SessionEvent.session_id)
        .having(started.is_not(None), or_(ended.is_(None), ended < started))
    )


def _utc(moment: datetime) -> datetime:
    # Rows are written in UTC; SQLite compares the stored text, so the bounds must be UTC as well.
    return moment.astimezone(UTC)


def _detail(detail: Any) -> dict[str, Any]:
    return dict(detail) if isinstance(detail, dict) else {}
