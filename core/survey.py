"""The satisfaction survey's answer: a 1-5 rating after an operator closed the session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.digits import to_ascii_digits
from core.kinds import Direction, MessageAuthor, SessionEventKind
from core.messages import SystemMessages
from core.models import ConversationSession
from core.repo.sessions import add_message, add_system_note, customer_and_open_session, record_event
from core.repo.tickets import survey_pending
from core.schemas import InboundTurn, Reply, TurnResult

RATINGS = frozenset({"1", "2", "3", "4", "5"})


class SurveyAnswers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], messages: SystemMessages) -> None:
        self._sessions = sessions
        self._messages = messages

    async def take_rating(self, turn: InboundTurn, text: str) -> TurnResult | None:
        """A 1-5 answer to the survey after an operator closed the session; None for anything else."""
        rating = to_ascii_digits(text)
        if rating not in RATINGS:
            return None
        async with self._sessions() as db, db.begin():
            customer, session = await customer_and_open_session(db, turn.customer_key)
            if customer is None or session is not None:
                return None
            latest = await db.scalar(
                select(ConversationSession)
                .where(ConversationSession.customer_id == customer.id)
                .order_by(ConversationSession.id.desc())
                .limit(1)
            )
            if latest is None or not await survey_pending(db, latest.id):
                return None
            add_message(db, latest.id, Direction.IN, MessageAuthor.CUSTOMER, text)
            await record_event(
                db, latest, SessionEventKind.SURVEY_ANSWERED, latest.state, latest.state,
                {"rating": int(rating)},
            )  # fmt: skip
            thanks = Reply(self._messages.get("survey_thanks", latest.language))
            add_system_note(db, latest.id, thanks.text)
        return TurnResult(latest.id, latest.state, (thanks,))
