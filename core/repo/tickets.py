"""Handoff tickets as the customer side sees them: position in the queue, expected wait, surveys."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import MessageAuthor, SessionEventKind
from core.models import HandoffTicket, Message, SessionEvent, TicketKind, TicketStatus, utcnow
from core.queue_wait import Wait, seconds_per_place

DEFAULT_WAIT_PER_POSITION_S = 120.0


async def ticket_of_session(db: AsyncSession, session_id: int) -> HandoffTicket | None:
    """The session's latest ticket."""
    return await db.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.session_id == session_id)
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )


async def queue_position(db: AsyncSession, ticket: HandoffTicket) -> int:
    """1 for the next to be served: higher priority first, then earlier tickets."""
    ahead = await db.scalar(
        select(func.count())
        .select_from(HandoffTicket)
        .where(
            HandoffTicket.status == TicketStatus.QUEUED.value,
            HandoffTicket.kind == TicketKind.SESSION.value,
            HandoffTicket.id != ticket.id,
            (HandoffTicket.priority > ticket.priority)
            | ((HandoffTicket.priority == ticket.priority) & (HandoffTicket.id < ticket.id)),
        )
    )
    return int(ahead or 0) + 1


async def recent_wait_per_position(db: AsyncSession) -> float:
    """Seconds a place in the queue took over the last 24 h (see core.queue_wait), or a default
    before any claim."""
    since = utcnow() - timedelta(hours=24)
    left = func.coalesce(HandoffTicket.claimed_at, HandoffTicket.closed_at)
    rows = await db.execute(
        select(HandoffTicket.id, HandoffTicket.created_at, HandoffTicket.claimed_at, left).where(
            HandoffTicket.kind == TicketKind.SESSION,
            or_(HandoffTicket.created_at >= since, left >= since, left.is_(None)),
        )
    )
    waits = [Wait(ticket_id, joined, claimed, gone) for ticket_id, joined, claimed, gone in rows]
    found = seconds_per_place(waits, since)
    return DEFAULT_WAIT_PER_POSITION_S if found is None else found


async def survey_pending(db: AsyncSession, session_id: int) -> bool:
    """The session was closed by an operator, asked for a rating, and got none yet."""
    kinds = set(
        await db.scalars(
            select(SessionEvent.kind).where(
                SessionEvent.session_id == session_id,
                SessionEvent.kind.in_((SessionEventKind.SURVEY_ASKED, SessionEventKind.SURVEY_ANSWERED)),
            )
        )
    )
    return kinds == {SessionEventKind.SURVEY_ASKED}


def waiting_since_before(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conversations (not callback tasks) still waiting for a person since before `cutoff`."""
    return (
        HandoffTicket.status == TicketStatus.QUEUED.value,
        HandoffTicket.kind == TicketKind.SESSION.value,
        HandoffTicket.created_at < cutoff,
    )


async def waiting_sessions_in_order(db: AsyncSession) -> list[int]:
    """Session ids of the queue, next to be served first (the order queue_position counts in)."""
    rows = await db.scalars(
        select(HandoffTicket.session_id)
        .where(
            HandoffTicket.status == TicketStatus.QUEUED.value, HandoffTicket.kind == TicketKind.SESSION.value
        )
        .order_by(HandoffTicket.priority.desc(), HandoffTicket.id)
    )
    return list(rows)


async def last_position_notices(db: AsyncSession, session_ids: list[int]) -> dict[int, Message]:
    """The latest "you are number N in the queue" message of each session, in one query."""
    if not session_ids:
        return {}
    rows = await db.scalars(
        select(Message)
        .where(Message.session_id.in_(session_ids), Message.author == MessageAuthor.SYSTEM)
        .order_by(Message.id)
    )
    return {m.session_id: m for m in rows if (m.payload or {}).get("queue_position") is not None}
