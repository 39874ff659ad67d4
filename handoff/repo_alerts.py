"""Reads keyword alerts (core/alerts.py) back: the events of a period for the figures, and the
conversations still open that an alert flagged, for the queue's badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import SessionEventKind as Kind
from core.models import ConversationSession, HandoffTicket, SessionEvent, SessionState, TicketStatus
from handoff.kpi import EventRow, Period


async def load_alert_events(db: AsyncSession, period: Period) -> list[EventRow]:
    rows = await db.execute(
        select(SessionEvent.session_id, SessionEvent.created_at, SessionEvent.detail)
        .where(
            SessionEvent.kind == Kind.KEYWORD_ALERT,
            # Stored in UTC; SQLite compares the text, so the bounds must be UTC too.
            SessionEvent.created_at >= period.since.astimezone(UTC),
            SessionEvent.created_at < period.until.astimezone(UTC),
        )
        .order_by(SessionEvent.id)
    )
    return [EventRow(sid, Kind.KEYWORD_ALERT, at, _detail(detail)) for sid, at, detail in rows]


@dataclass(frozen=True)
class FlaggedConversation:
    session_id: int
    ticket_id: int | None  # its open ticket, if it waits for or is with a person
    phrases: list[dict[str, str]]  # every phrase found so far, each once
    alerts: int
    last_at: datetime


async def flagged_conversations(db: AsyncSession) -> list[FlaggedConversation]:
    """Conversations not closed yet with at least one alert, the most recently flagged first."""
    rows = await db.execute(
        select(SessionEvent.session_id, SessionEvent.created_at, SessionEvent.detail)
        .join(ConversationSession, ConversationSession.id == SessionEvent.session_id)
        .where(
            SessionEvent.kind == Kind.KEYWORD_ALERT,
            ConversationSession.state != SessionState.CLOSED.value,
        )
        .order_by(SessionEvent.id)
    )
    found: dict[int, dict[str, Any]] = {}
    for session_id, at, detail in rows:
        entry = found.setdefault(session_id, {"phrases": {}, "alerts": 0, "last_at": at})
        entry["alerts"] += 1
        entry["last_at"] = at
        for phrase in _detail(detail).get("phrases") or ():
            if isinstance(phrase, dict):
                key = (str(phrase.get("phrase")), str(phrase.get("language")))
                entry["phrases"][key] = {"phrase": key[0], "language": key[1]}
    tickets = await _open_tickets(db, list(found))
    flagged = [
        FlaggedConversation(sid, tickets.get(sid), list(e["phrases"].values()), e["alerts"], e["last_at"])
        for sid, e in found.items()
    ]
    return sorted(flagged, key=lambda f: f.last_at, reverse=True)


async def _open_tickets(db: AsyncSession, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = await db.execute(
        select(HandoffTicket.session_id, HandoffTicket.id)
        .where(
            HandoffTicket.session_id.in_(session_ids),
            HandoffTicket.status != TicketStatus.CLOSED.value,
        )
        .order_by(HandoffTicket.id)
    )
    return {session_id: ticket_id for session_id, ticket_id in rows}


def _detail(detail: Any) -> dict[str, Any]:
    return dict(detail) if isinstance(detail, dict) else {}
