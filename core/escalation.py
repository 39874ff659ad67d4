"""Escalation: a session is queued for a person, with the context card built from what is stored."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.card import build_card, dialogue_state
from core.dialogue import RasaClient
from core.errors import TransitionRefused
from core.events import EventBus
from core.models import ConversationSession
from core.repo.moods import priority_on_queueing

logger = logging.getLogger(__name__)


class Escalation:
    """Asked by the bot's handoff, a failed bot, the voice menu and a callback request alike."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient, bus: EventBus) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._bus = bus

    async def escalate(self, session_id: int, *, reason: str, topic: str, summary: str) -> int:
        """Build and store the context card, then queue the session for a person."""
        async with self._sessions() as db:
            sender_id = await db.scalar(
                select(ConversationSession.rasa_sender_id).where(ConversationSession.id == session_id)
            )
        if sender_id is None:
            raise LookupError(f"no session {session_id}")
        # Ask Rasa before opening the transaction: no HTTP call while rows are locked.
        dialogue = await dialogue_state(self._rasa, sender_id)

        async def card(session: ConversationSession) -> dict[str, Any]:
            return await build_card(db, session, dialogue, reason=reason, topic=topic, summary=summary)

        async with self._sessions() as db, db.begin():
            result = await lifecycle.queue(
                db, session_id, reason=reason, topic=topic, summary=summary, card=card
            )
            if result.done and result.ticket is not None:
                await priority_on_queueing(db, result.ticket)
            await outbox.write(db, self._bus, lifecycle.live_event(result))
        if result.outcome is lifecycle.Outcome.NOT_FOUND:
            raise LookupError(result.why)
        if result.outcome is lifecycle.Outcome.NOT_ALLOWED:
            raise TransitionRefused(f"session {session_id} cannot be queued: {result.why}")
        assert result.ticket is not None
        logger.info(
            "session queued session_id=%s reason=%s ticket_id=%s outcome=%s",
            session_id, reason, result.ticket.id, result.outcome,
        )  # fmt: skip
        return result.ticket.id
