"""The turn path: stores every turn first, then routes it to the bot, the queue, callbacks or the survey."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.alerts import KeywordAlerts, flag_message
from core.callbacks import CALLBACK, CallbackFlow, awaiting_phone
from core.dialogue import RasaClient
from core.errors import DialogueUnavailable, InvalidTurn
from core.escalation import Escalation
from core.events import EventBus, LiveEvent
from core.hours import ALWAYS_OPEN, BusinessHours
from core.kinds import Direction, MessageAuthor, Mood, Topic
from core.language import detect_language
from core.locks import CustomerLocks
from core.messages import SystemMessages
from core.models import ConversationSession, Message, SessionState, utcnow
from core.mood import classify as mood_of
from core.repo.customers import get_or_create_customer
from core.repo.moods import PERSON_OFFERED, person_due, raise_priority
from core.repo.sessions import (
    CLIENT_MESSAGE_ID,
    add_message,
    add_replies,
    add_system_note,
    answered_turn,
    customer_and_open_session,
    is_idle,
    latest_session,
    new_rasa_sender_id,
    open_session,
    switch_language,
    switch_rasa_sender,
)
from core.schemas import Button, InboundTurn, Reply, TurnResult
from core.survey import SurveyAnswers
from core.waiting import BACK_TO_BOT, WaitingCustomers

logger = logging.getLogger(__name__)

# Rasa conversations whose turns are counted for the rollover; beyond, the least recent is forgotten.
COUNTED_CONVERSATIONS = 10_000
# Button payload with which a customer takes the person offered after angry messages to the bot.
PERSON_NOW = "/person_now"
# The payload of the bot's own "yes" buttons.
BOT_YES = "/affirm"


class ConversationService:
    """Customers' turns, from any channel: channel adapters only translate to and from turns.
    Every change of session state goes through core.lifecycle."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        messages: SystemMessages,
        *,
        escalation: Escalation,
        waiting: WaitingCustomers,
        callbacks: CallbackFlow,
        survey: SurveyAnswers,
        customer_locks: CustomerLocks,
        max_text_length: int,
        session_idle_minutes: int,
        bus: EventBus,
        hours: BusinessHours = ALWAYS_OPEN,
        default_language: str = "en",
        alerts: KeywordAlerts | None = None,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._messages = messages
        self._escalation = escalation
        self._waiting = waiting
        self._callbacks = callbacks
        self._survey = survey
        # One customer's turns in order; shared with the call steps (core.calls).
        self._locks = customer_locks
        self._max_text_length = max_text_length
        self._idle_minutes = session_idle_minutes
        self._bus = bus
        self._hours = hours
        self._default_language = default_language
        # Watched phrases in customer messages flag the conversation to supervisors.
        self._alerts = alerts if alerts is not None else KeywordAlerts({})
        # Rasa conversation -> turns sent to it since it started (see _rollover_due).
        self._bot_turns: OrderedDict[str, int] = OrderedDict()
        # Sessions whose customer just wrote angrily to the bot again: offered a person after the
        # bot's answer. Set and read under the customer's lock, within one turn.
        self._person_due: set[int] = set()

    async def handle_turn(self, turn: InboundTurn) -> TurnResult:
        """Persist the turn, then answer it; one customer's turns are handled strictly in order."""
        # NUL has no meaning in a message, and PostgreSQL refuses to store it in text.
        text = turn.text.replace("\x00", "").strip()
        if not text:
            raise InvalidTurn("empty message")
        if len(text) > self._max_text_length:
            raise InvalidTurn(f"message longer than {self._max_text_length} characters")
        async with self._locks.hold(turn.customer_key):
            retried = await self._already_answered(turn)
            if retried is not None:
                return retried
            rated = await self._survey.take_rating(turn, text)
            if rated is not None:
                return rated
            session = await self._store_inbound(turn, text)
            offer_person = session.id in self._person_due
            self._person_due.discard(session.id)
            if session.state != SessionState.BOT.value:
                return await self._while_with_people(session, text)
            if text == PERSON_NOW:
                return await self._to_person_now(session)
            if self._rollover_due(session.rasa_sender_id):
                await self._roll_over(session)
            result = await self._ask_bot(session, turn, text)
            return await self._offer_person(session, result) if offer_person else result

    async def _already_answered(self, turn: InboundTurn) -> TurnResult | None:
        """A client that lost our response sends the turn again with the same message id: it gets
        the replies it missed, and the turn is neither stored nor answered twice. A turn stored
        but never answered (the process stopped in between) is answered now."""
        client_id = turn.metadata.get(CLIENT_MESSAGE_ID)
        if not client_id or turn.first_delivery:
            return None
        async with self._sessions() as db:
            found = await answered_turn(db, turn.customer_key, str(client_id))
        if found is None:
            return None
        session = found.session
        if found.unanswered and session.state == SessionState.BOT.value:
            # Stored, then the process stopped before the bot answered: answer it now, once.
            return await self._ask_bot(session, turn, found.message.text)
        replies = tuple(
            Reply(m.text, tuple(Button(**b) for b in (m.payload or {}).get("buttons", ())))
            for m in found.replies
        )
        return TurnResult(session.id, session.state, replies)

    async def _store_inbound(self, turn: InboundTurn, text: str) -> ConversationSession:
        async with self._sessions() as db, db.begin():
            customer, session = await customer_and_open_session(db, turn.customer_key)
            # The text's own language wins; the channel's (Telegram's UI, the IVR line) opens a session.
            written_in = detect_language(text, session.language if session else turn.language)
            language = written_in or turn.language or self._default_language
            if customer is None:
                customer = await get_or_create_customer(db, turn.customer_key, language)
            now = utcnow()
            if session is not None and is_idle(session, now, self._idle_minutes):
                session = await lifecycle.close_idle(db, session)
            if session is None:
                session = await open_session(db, customer, turn.channel, language)
            elif written_in is not None and written_in != session.language:
                await switch_language(db, session, written_in)
            # Idleness is measured from the customer's last message, not the bot's last reply.
            session.last_activity_at = now
            client_id = turn.metadata.get(CLIENT_MESSAGE_ID)
            message = add_message(
                db, session.id, Direction.IN, MessageAuthor.CUSTOMER, text, turn.metadata or None,
                client_message_id=str(client_id) if client_id else None,
            )  # fmt: skip
            message.mood = mood_of(text, session.language)
            moved = await self._note_mood(db, session, message)
            alert = await flag_message(db, self._alerts, session, message)
            await outbox.write(db, self._bus, message, alert, moved)
        return session

    async def _note_mood(
        self, db: AsyncSession, session: ConversationSession, message: Message
    ) -> LiveEvent | None:
        """An angry message moves a waiting customer up the queue; with the bot, the second angry
        one in a row earns the offer of a person. Calm and negative ones cost nothing here."""
        if message.mood != Mood.ANGRY:
            return None
        if session.state == SessionState.QUEUED:
            return await raise_priority(db, session.id)
        if session.state == SessionState.BOT:
            await db.flush()
            if await person_due(db, message):
                self._person_due.add(session.id)
        return None

    async def _offer_person(self, session: ConversationSession, result: TurnResult) -> TurnResult:
        """After the bot's answer, a button to a person; the customer may as well carry on here."""
        if result.state != SessionState.BOT:
            return result  # the bot handed over already
        if any(b.payload == BOT_YES for r in result.replies for b in r.buttons):
            # The bot just asked a yes/no question (often "shall I pass you to an operator?"): no
            # second question on top; the next angry message gets the offer.
            return result
        lang = session.language
        button = Button(self._messages.get("mood_person_button", lang), PERSON_NOW)
        async with self._sessions() as db, db.begin():
            offer = add_system_note(
                db, session.id, self._messages.get("mood_person_offer", lang),
                {"buttons": [{"title": button.title, "payload": button.payload}], PERSON_OFFERED: True},
            )  # fmt: skip
            await outbox.write(db, self._bus, offer)
        return TurnResult(result.session_id, result.state, (*result.replies, Reply(offer.text, (button,))))

    async def _to_person_now(self, session: ConversationSession) -> TurnResult:
        """The customer took the offered person: queued at once, without the bot asking again."""
        await self._escalation.escalate(
            session.id,
            reason="customer_upset",
            topic=Topic.GENERAL,
            summary=self._messages.get("mood_person_summary", session.language),
        )
        notice = await self._after_escalation(session)
        return TurnResult(session.id, SessionState.QUEUED, (notice,))

    async def _while_with_people(self, session: ConversationSession, text: str) -> TurnResult:
        if session.state != SessionState.QUEUED:
            # With an operator: the operator answers live; nothing automatic in between.
            return TurnResult(session.id, session.state, ())
        if text == BACK_TO_BOT:
            return await self._waiting.leave_queue(session)
        if text == CALLBACK:
            return await self._callbacks.accept(session)
        async with self._sessions() as db:
            asked_for_phone = await awaiting_phone(db, session.id)
        if asked_for_phone:
            return await self._callbacks.take_phone(session, text)
        return await self._waiting.still_waiting(session)

    async def _after_escalation(self, session: ConversationSession) -> Reply:
        """Open: the customer hears their place in the queue. Closed: nobody would answer, so a
        callback is offered (the ticket stays queued in case the customer prefers to wait)."""
        if self._hours.is_open(utcnow()):
            return await self._waiting.announce_position(session)
        offer = await self._callbacks.offer(session.id, "closed")
        # Claimed already (an operator was quick): the position would say nothing either.
        return offer if offer is not None else await self._waiting.announce_position(session)

    async def _ask_bot(self, session: ConversationSession, turn: InboundTurn, text: str) -> TurnResult:
        metadata = {"channel": turn.channel, "language": session.language, **turn.metadata}
        try:
            raw = await self._rasa.send(session.rasa_sender_id, text, metadata)
        except DialogueUnavailable as exc:
            logger.warning("bot unavailable sender_id=%s: %s", session.rasa_sender_id, exc)
            return await self._bot_failed(session, str(exc))
        replies, handoff = parse_bot_replies(raw)
        await self._store_replies(session, MessageAuthor.BOT, replies)
        if handoff is not None:
            await self._escalation.escalate(
                session.id,
                reason=str(handoff.get("reason") or "customer_request"),
                topic=str(handoff.get("topic") or Topic.GENERAL),
                summary=str(handoff.get("summary") or ""),
            )
            notice = await self._after_escalation(session)
            return TurnResult(session.id, SessionState.QUEUED, (*replies, notice))
        return TurnResult(session.id, session.state, replies)

    def _rollover_due(self, sender_id: str) -> bool:
        """Counts the turns this process sends to a Rasa conversation: True at every
        `rollover_turns`-th. Kept in memory, not in a query per turn: after a restart, or with a
        customer's turns spread over processes, a conversation only rolls over a little later."""
        every = self._rasa.rollover_turns
        if not every:
            return False
        turns = self._bot_turns.pop(sender_id, 0) + 1
        if turns >= every:
            return True  # counting starts again, whether or not the rollover succeeds
        self._bot_turns[sender_id] = turns
        if len(self._bot_turns) > COUNTED_CONVERSATIONS:
            self._bot_turns.popitem(last=False)  # the least recently active
        return False

    async def _roll_over(self, session: ConversationSession) -> None:
        """Move the session to a fresh Rasa conversation carrying its slots, form and latest turns,
        so a long chat costs no more per turn than a short one. Any failure leaves the session on
        its current conversation: the turn is not held up."""
        old, new = session.rasa_sender_id, new_rasa_sender_id(session)
        try:
            moved = await self._rasa.roll_over(old, new)
        except DialogueUnavailable as exc:
            logger.warning("no rollover sender_id=%s: %s", old, exc)
            return
        if not moved:
            return
        # Committed before the first turn goes to the new id: actions look the session up by it.
        async with self._sessions() as db, db.begin():
            switched = await switch_rasa_sender(db, session.id, old, new)
        if switched:
            session.rasa_sender_id = new
            logger.info("rolled over session_id=%s sender_id=%s", session.id, new)

    async def _bot_failed(self, session: ConversationSession, error: str) -> TurnResult:
        """A holding reply, and a person takes over: the customer is never left without an answer."""
        reply = Reply(self._messages.get("bot_unavailable", session.language))
        await self._store_replies(session, MessageAuthor.SYSTEM, (reply,))
        await self._escalation.escalate(
            session.id,
            reason="bot_unavailable",
            topic=Topic.GENERAL,
            summary=f"The bot failed to answer ({error[:120]}); the customer got a holding reply.",
        )
        notice = await self._after_escalation(session)
        return TurnResult(session.id, SessionState.QUEUED, (reply, notice))

    async def _store_replies(
        self, session: ConversationSession, author: MessageAuthor, replies: tuple[Reply, ...]
    ) -> None:
        async with self._sessions() as db, db.begin():
            await outbox.write(db, self._bus, *add_replies(db, session.id, author, replies))

    async def session_language(self, customer_key: str) -> str | None:
        """The language of the customer's open session (detected from what they wrote), if any:
        channels answer in it rather than in the messenger's interface language."""
        async with self._sessions() as db:
            _, session = await customer_and_open_session(db, customer_key)
            return session.language if session is not None else None

    async def messages_since(self, customer_key: str, after_id: int) -> tuple[str, list[Message]]:
        """What reached the customer after a message id (operator replies arrive so), and the state."""
        async with self._sessions() as db:
            session = await latest_session(db, customer_key)
            if session is None:
                return SessionState.CLOSED, []
            rows = await db.scalars(
                select(Message)
                .join(ConversationSession, ConversationSession.id == Message.session_id)
                .where(
                    ConversationSession.customer_id == session.customer_id,
                    Message.direction == Direction.OUT,
                    Message.id > after_id,
                )
                .order_by(Message.id)
            )
            return session.state, list(rows)

    async def handle_media(self, turn: InboundTurn, ack_key: str) -> TurnResult:
        """A file, sticker or contact: stored (its description in `text`, the file in `metadata`)
        and acknowledged in the session's language; never sent to the bot, which cannot read it.
        With people, the ack is the `<ack_key>_with_people` message, since the operator will look."""
        async with self._locks.hold(turn.customer_key):
            session = await self._store_inbound(turn, turn.text.strip() or "[file]")
            key = ack_key if session.state == SessionState.BOT else f"{ack_key}_with_people"
            reply = Reply(self._messages.get(key, session.language))
            await self._store_replies(session, MessageAuthor.SYSTEM, (reply,))
            return TurnResult(session.id, session.state, (reply,))


def parse_bot_replies(raw: list[dict[str, Any]]) -> tuple[tuple[Reply, ...], dict[str, Any] | None]:
    """Rasa REST messages -> replies for the customer, plus the handoff payload if one came."""
    replies: list[Reply] = []
    handoff: dict[str, Any] | None = None
    for message in raw:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff = custom["handoff"]
        text = message.get("text")
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in message.get("buttons") or []
        )
        if text or buttons:
            replies.append(Reply(text=str(text or ""), buttons=buttons))
    return tuple(replies), handoff
