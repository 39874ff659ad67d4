"""Waiting in the queue: where a customer stands, what they hear meanwhile, and leaving for the bot."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.dialogue import RasaClient
from core.errors import DialogueUnavailable
from core.events import EventBus
from core.kinds import MessageAuthor
from core.messages import SystemMessages
from core.models import ConversationSession, Message, SessionState
from core.repo.sessions import add_replies, add_system_note
from core.repo.tickets import queue_position, recent_wait_per_position, ticket_of_session
from core.schemas import Button, Reply, TurnResult

# Button payload with which a waiting customer leaves the queue and returns to the bot.
BACK_TO_BOT = "/back_to_bot"


class WaitingCustomers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        messages: SystemMessages,
        bus: EventBus,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._messages = messages
        self._bus = bus

    async def still_waiting(self, session: ConversationSession) -> TurnResult:
        """Anything else a waiting customer writes: they are told a person will answer."""
        reply = Reply(self._messages.get("waiting_for_operator", session.language))
        await self._store_replies(session, (reply,))
        return TurnResult(session.id, session.state, (reply,))

    async def leave_queue(self, session: ConversationSession) -> TurnResult:
        """The customer stops waiting: counted as abandoned, and the bot carries on where it was."""
        try:
            await self._rasa.resume(session.rasa_sender_id)
        except DialogueUnavailable:
            reply = Reply(self._messages.get("bot_still_unavailable", session.language))
            await self._store_replies(session, (reply,))
            return TurnResult(session.id, session.state, (reply,))
        async with self._sessions() as db, db.begin():
            result = await lifecycle.leave_queue(db, session.id)
            await outbox.write(db, self._bus, lifecycle.live_event(result))
        if not result.done:
            # An operator claimed the session meanwhile: they answer, and the customer saw them join.
            state = result.session.state if result.session is not None else session.state
            return TurnResult(session.id, state, ())
        reply = Reply(self._messages.get("left_queue", session.language))
        await self._store_replies(session, (reply,))
        return TurnResult(session.id, SessionState.BOT, (reply,))

    async def announce_position(self, session: ConversationSession) -> Reply:
        """Tell a customer who just joined the queue where they stand, with the way back to the bot."""
        async with self._sessions() as db, db.begin():
            ticket = await ticket_of_session(db, session.id)
            assert ticket is not None
            position = await queue_position(db, ticket)
            message = self.position_notice(db, session, position, await recent_wait_per_position(db))
            await outbox.write(db, self._bus, message)
        return Reply(message.text, tuple(Button(**b) for b in (message.payload or {})["buttons"]))

    def position_notice(
        self, db: AsyncSession, session: ConversationSession, position: int, wait_per_position_s: float
    ) -> Message:
        """The place in the queue and the expected wait, queued in the caller's transaction."""
        minutes = max(1, round(position * wait_per_position_s / 60))
        lang = session.language
        text = self._messages.get("queue_position", lang, position=str(position), minutes=str(minutes))
        button = {"title": self._messages.get("back_to_bot_button", lang), "payload": BACK_TO_BOT}
        return add_system_note(db, session.id, text, {"buttons": [button], "queue_position": position})

    async def _store_replies(self, session: ConversationSession, replies: tuple[Reply, ...]) -> None:
        async with self._sessions() as db, db.begin():
            await outbox.write(db, self._bus, *add_replies(db, session.id, MessageAuthor.SYSTEM, replies))
