"""Loads what the mood figures need for a period: the tickets a person closed in it and their
customers' moods (handoff.kpi.mood_figures)."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import MessageAuthor, Mood
from core.models import HandoffTicket, Message, TicketKind
from handoff.kpi import MoodRow, MoodTicket, Period


async def load_mood_data(db: AsyncSession, period: Period) -> tuple[list[MoodTicket], list[MoodRow]]:
    # Stored in UTC; SQLite compares the text, so the bounds must be UTC too.
    since, until = period.since.astimezone(UTC), period.until.astimezone(UTC)
    rows = await db.execute(
        select(
            HandoffTicket.id,
            HandoffTicket.session_id,
            HandoffTicket.topic,
            HandoffTicket.language,
            HandoffTicket.created_at,
            HandoffTicket.closed_at,
        ).where(
            HandoffTicket.kind == TicketKind.SESSION.value,
            HandoffTicket.claimed_at.is_not(None),
            HandoffTicket.closed_at >= since,
            HandoffTicket.closed_at < until,
        )
    )
    tickets = [MoodTicket(*row) for row in rows]
    sessions = sorted({t.session_id for t in tickets})
    if not sessions:
        return tickets, []
    moods = await db.execute(
        select(Message.session_id, Message.created_at, Message.mood).where(
            Message.session_id.in_(sessions),
            Message.author == MessageAuthor.CUSTOMER.value,
            Message.mood.is_not(None),
            Message.created_at < until,
        )
    )
    return tickets, [MoodRow(sid, at, Mood(mood)) for sid, at, mood in moods]
