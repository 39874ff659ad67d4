"""Handoff tickets as the customer side sees them: position in the queue, expected wait, surveys."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import HandoffTicket, Message, SessionEvent, TicketKind, TicketStatus, utcnow

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
    """Mean seconds from queued to claimed over the last 24 h, or a default before any claim."""
    since = utcnow() - timedelta(hours=24)
    waits = list(
        await db.execute(
            select(HandoffTicket.created_at, HandoffTicket.claimed_at).where(
                HandoffTicket.claimed_at.is_not(None), HandoffTicket.claimed_at >= since
            )
        )
    )
    if not waits:
        return DEFAULT_WAIT_PER_POSITION_S
    return sum((claimed - created).total_seconds() for created, claimed in waits) / len(waits)


async def survey_pending(db: AsyncSession, session_id: int) -> bool:
    """The session was closed by an operator, asked for a rating, and got none yet."""
    kinds = set(
        await db.scalars(
            select(SessionEvent.kind).where(
                SessionEvent.session_id == session_id,
                SessionEvent.kind.in_(("survey_asked", "survey_answered")),
            )
        )
    )
    return kinds == {"survey_asked"}


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
        .where(Message.session_id.in_(session_ids), Message.author == "system")
        .order_by(Message.id)
    )
    return {m.session_id: m for m in rows if (m.payload or {}).get("queue_position") is not None}


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
