"""The conversation core: stores every turn first, then routes it to the bot or to the operator."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.callbacks import AWAITING_PHONE, CALLBACK, awaiting_phone, callback_buttons, known_phone
from core.card import build_card, dialogue_state
from core.dialogue import RasaClient
from core.digits import to_ascii_digits
from core.errors import DialogueUnavailable, InvalidTurn, TransitionRefused
from core.events import EventBus
from core.hours import ALWAYS_OPEN, BusinessHours
from core.kinds import Direction, MessageAuthor, SessionEventKind, Topic
from core.language import detect_language
from core.locks import KeyedLocks
from core.messages import SystemMessages
from core.models import (
    ConversationSession,
    HandoffTicket,
    Message,
    SessionEvent,
    SessionState,
    TicketStatus,
    utcnow,
)
from core.phones import parse_phone
from core.repo.customers import fill_customer_card, get_or_create_customer
from core.repo.sessions import (
    CLIENT_MESSAGE_ID,
    add_message,
    answered_turn,
    customer_and_open_session,
    is_idle,
    latest_session,
    new_rasa_sender_id,
    open_session,
    record_event,
    switch_language,
    switch_rasa_sender,
)
from core.repo.tickets import (
    last_position_notices,
    queue_position,
    recent_wait_per_position,
    survey_pending,
    ticket_of_session,
    waiting_sessions_in_order,
    waiting_since_before,
)
from core.schemas import Button, InboundTurn, Reply, TurnResult

logger = logging.getLogger(__name__)

# Queue-position notices written per transaction by the sweeper.
NOTICE_BATCH = 50
# Button payload with which a waiting customer leaves the queue and returns to the bot.
BACK_TO_BOT = "/back_to_bot"
# Numbering plans tried for a callback number without a country code when none are configured.
DEFAULT_PHONE_REGIONS = ("US", "GB")
# Rasa conversations whose turns are counted for the rollover; beyond, the least recent is forgotten.
COUNTED_CONVERSATIONS = 10_000


class ConversationService:
    """The one owner of session state; channel adapters only translate to and from turns."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        messages: SystemMessages,
        *,
        max_text_length: int,
        session_idle_minutes: int,
        bus: EventBus | None = None,
        hours: BusinessHours = ALWAYS_OPEN,
        default_language: str = "en",
        phone_regions: Callable[[str], Sequence[str]] = lambda _language: DEFAULT_PHONE_REGIONS,
    ) -> None:
        self._bus = bus if bus is not None else EventBus()
        # Where a callback number without a country code is looked up, per session language.
        self._phone_regions = phone_regions
        self._default_language = default_language
        self._hours = hours
        self._sessions = sessions
        self._rasa = rasa
        self._messages = messages
        self._max_text_length = max_text_length
        self._idle_minutes = session_idle_minutes
        self._locks = KeyedLocks()
        # Rasa conversation -> turns sent to it since it started (see _rollover_due).
        self._bot_turns: OrderedDict[str, int] = OrderedDict()

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
            rated = await self._take_rating(turn, text)
            if rated is not None:
                return rated
            session = await self._store_inbound(turn, text)
            if session.state != SessionState.BOT.value:
                return await self._while_with_people(session, text)
            if self._rollover_due(session.rasa_sender_id):
                await self._roll_over(session)
            return await self._ask_bot(session, turn, text)

    async def _already_answered(self, turn: InboundTurn) -> TurnResult | None:
        """A client that lost our response sends the turn again with the same message id: it gets
        the replies it missed, and the turn is neither stored nor answered twice. A turn stored
        but never answered (the process stopped in between) is answered now."""
        client_id = turn.metadata.get(CLIENT_MESSAGE_ID)
        if not client_id:
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
            written_in = detect_language(text)
            language = written_in or turn.language or self._default_language
            if customer is None:
                customer = await get_or_create_customer(db, turn.customer_key, language)
            now = utcnow()
            if session is not None and is_idle(session, now, self._idle_minutes):
                session = await _close_idle(db, session)
            if session is None:
                session = await open_session(db, customer, turn.channel, language)
            elif written_in is not None and written_in != session.language:
                await switch_language(db, session, written_in)
            # Idleness is measured from the customer's last message, not the bot's last reply.
            session.last_activity_at = now
            message = add_message(
                db, session.id, Direction.IN, MessageAuthor.CUSTOMER, text, turn.metadata or None
            )
            await outbox.write(db, self._bus, message)
        return session

    async def _while_with_people(self, session: ConversationSession, text: str) -> TurnResult:
        if session.state != SessionState.QUEUED:
            # With an operator: the operator answers live; nothing automatic in between.
            return TurnResult(session.id, session.state, ())
        if text == BACK_TO_BOT:
            return await self._leave_queue(session)
        if text == CALLBACK:
            return await self._accept_callback(session)
        async with self._sessions() as db:
            asked_for_phone = await awaiting_phone(db, session.id)
        if asked_for_phone:
            return await self._take_callback_phone(session, text)
        reply = Reply(self._messages.get("waiting_for_operator", session.language))
        await self._store_replies(session, MessageAuthor.SYSTEM, (reply,))
        return TurnResult(session.id, session.state, (reply,))

    async def abandon_stale_waits(self, timeout: timedelta) -> int:
        """Close tickets nobody claimed in time: the customer is told, the wait counts as abandoned."""
        cutoff = utcnow() - timeout
        async with self._sessions() as db:
            stale = list(await db.scalars(select(HandoffTicket.id).where(*waiting_since_before(cutoff))))
        for ticket_id in stale:
            await self._abandon(ticket_id)
        return len(stale)

    async def _abandon(self, ticket_id: int) -> None:
        async with self._sessions() as db, db.begin():
            result = await lifecycle.abandon(db, ticket_id)
            if not result.done:
                return  # claimed meanwhile
            assert result.session is not None
            lang = result.session.language
            note = self._system_note(db, result.session.id, self._messages.get("queue_timeout", lang))
            await outbox.write(db, self._bus, lifecycle.live_event(result), note)
        logger.info("wait timed out ticket_id=%s", ticket_id)

    @staticmethod
    def _system_note(
        db: AsyncSession, session_id: int, text: str, payload: dict[str, Any] | None = None
    ) -> Message:
        return add_message(db, session_id, Direction.OUT, MessageAuthor.SYSTEM, text, payload)

    async def _announce_position(self, session: ConversationSession) -> Reply:
        """Tell a customer who just joined the queue where they stand, with the way back to the bot."""
        async with self._sessions() as db, db.begin():
            ticket = await ticket_of_session(db, session.id)
            assert ticket is not None
            position = await queue_position(db, ticket)
            message = self._position_notice(db, session, position, await recent_wait_per_position(db))
            await outbox.write(db, self._bus, message)
        return Reply(message.text, tuple(Button(**b) for b in (message.payload or {})["buttons"]))

    def _position_notice(
        self, db: AsyncSession, session: ConversationSession, position: int, wait_per_position_s: float
    ) -> Message:
        minutes = max(1, round(position * wait_per_position_s / 60))
        lang = session.language
        text = self._messages.get("queue_position", lang, position=str(position), minutes=str(minutes))
        button = {"title": self._messages.get("back_to_bot_button", lang), "payload": BACK_TO_BOT}
        return self._system_note(db, session.id, text, {"buttons": [button], "queue_position": position})

    async def announce_queue_positions(self, min_interval: timedelta) -> int:
        """Waiting customers whose place changed hear it, at most once per `min_interval`.

        Positions come from one ordered query; notices are written in small batches with a pause for
        the event loop in between, so a long queue does not hold up operators' requests."""
        now = utcnow()
        async with self._sessions() as db:
            waiting = await waiting_sessions_in_order(db)
            last = await last_position_notices(db, waiting)
            due = [
                (session_id, position)
                for position, session_id in enumerate(waiting, start=1)
                if session_id not in last
                or (
                    (last[session_id].payload or {}).get("queue_position") != position
                    and now - last[session_id].created_at >= min_interval
                )
            ]
            wait = await recent_wait_per_position(db) if due else 0.0
        sent = 0
        for start in range(0, len(due), NOTICE_BATCH):
            batch = dict(due[start : start + NOTICE_BATCH])
            async with self._sessions() as db, db.begin():
                sessions = await db.scalars(
                    select(ConversationSession).where(
                        ConversationSession.id.in_(batch),
                        ConversationSession.state == SessionState.QUEUED,
                    )
                )
                notices = [self._position_notice(db, s, batch[s.id], wait) for s in sessions]
                await outbox.write(db, self._bus, *notices)
            sent += len(notices)
            await asyncio.sleep(0)
        return sent

    async def _leave_queue(self, session: ConversationSession) -> TurnResult:
        """The customer stops waiting: counted as abandoned, and the bot carries on where it was."""
        try:
            await self._rasa.resume(session.rasa_sender_id)
        except DialogueUnavailable:
            reply = Reply(self._messages.get("bot_still_unavailable", session.language))
            await self._store_replies(session, MessageAuthor.SYSTEM, (reply,))
            return TurnResult(session.id, session.state, (reply,))
        async with self._sessions() as db, db.begin():
            result = await lifecycle.leave_queue(db, session.id)
            await outbox.write(db, self._bus, lifecycle.live_event(result))
        if not result.done:
            # An operator claimed the session meanwhile: they answer, and the customer saw them join.
            state = result.session.state if result.session is not None else session.state
            return TurnResult(session.id, state, ())
        reply = Reply(self._messages.get("left_queue", session.language))
        await self._store_replies(session, MessageAuthor.SYSTEM, (reply,))
        return TurnResult(session.id, SessionState.BOT, (reply,))

    async def _after_escalation(self, session: ConversationSession) -> Reply:
        """Open: the customer hears their place in the queue. Closed: nobody would answer, so a
        callback is offered (the ticket stays queued in case the customer prefers to wait)."""
        if self._hours.is_open(utcnow()):
            return await self._announce_position(session)
        offer = await self._offer_callback(session.id, "closed")
        # Claimed already (an operator was quick): the position would say nothing either.
        return offer if offer is not None else await self._announce_position(session)

    async def _offer_callback(self, session_id: int, why: str) -> Reply | None:
        """None when the customer no longer waits (claimed a moment ago): nothing is offered."""
        async with self._sessions() as db, db.begin():
            result = await lifecycle.offer_callback(db, session_id, why)
            if not result.done:
                return None
            assert result.session is not None
            lang = result.session.language
            if why == "closed":
                opening = self._when(self._hours.next_opening(utcnow()), lang)
                text = self._messages.get("closed_offer_callback", lang, opening=opening)
            else:
                text = self._messages.get("long_wait_offer_callback", lang)
            titles = (
                self._messages.get("callback_button", lang),
                self._messages.get("back_to_bot_button", lang),
            )
            buttons = callback_buttons(titles, BACK_TO_BOT)
            message = self._system_note(db, session_id, text, {"buttons": buttons, "callback_offer": why})
            await outbox.write(db, self._bus, message)
        return Reply(text, tuple(Button(**b) for b in buttons))

    def _when(self, moment: datetime | None, language: str) -> str:
        """An opening time as the customer reads it: local to the contact centre, with its zone."""
        if moment is None:
            return self._messages.get("when_we_open", language)
        local = moment.astimezone(self._hours.timezone)
        return f"{local:%Y-%m-%d %H:%M} ({self._hours.timezone.key})"

    async def offer_callbacks_to_long_waits(self, after: timedelta) -> int:
        """Customers waiting longer than `after` are offered a callback, once per session."""
        cutoff = utcnow() - after
        async with self._sessions() as db:
            waiting = list(
                await db.scalars(select(HandoffTicket.session_id).where(*waiting_since_before(cutoff)))
            )
            offered = set(
                await db.scalars(
                    select(SessionEvent.session_id).where(
                        SessionEvent.session_id.in_(waiting),
                        SessionEvent.kind == SessionEventKind.CALLBACK_OFFERED,
                    )
                )
            )
        due = [session_id for session_id in waiting if session_id not in offered]
        made = 0
        for session_id in due:
            made += await self._offer_callback(session_id, "long_wait") is not None
        return made

    async def _accept_callback(self, session: ConversationSession) -> TurnResult:
        async with self._sessions() as db:
            phone = await known_phone(db, session)
        if phone is None:
            return await self._ask_for_phone(session, "callback_phone_question")
        return await self._confirm_callback(session, phone)

    async def _take_callback_phone(self, session: ConversationSession, text: str) -> TurnResult:
        phone = parse_phone(text, self._phone_regions(session.language))
        if phone is None:
            return await self._ask_for_phone(session, "callback_phone_invalid")
        return await self._confirm_callback(session, phone)

    async def _ask_for_phone(self, session: ConversationSession, key: str) -> TurnResult:
        async with self._sessions() as db, db.begin():
            text = self._messages.get(key, session.language)
            question = self._system_note(db, session.id, text, {"awaiting": AWAITING_PHONE})
            await outbox.write(db, self._bus, question)
        return TurnResult(session.id, session.state, (Reply(question.text),))

    async def _confirm_callback(self, session: ConversationSession, phone: str) -> TurnResult:
        confirmation = await self._convert_to_callback(session.id, phone)
        if confirmation is None:  # an operator claimed the session meanwhile and is answering
            return TurnResult(session.id, SessionState.OPERATOR, ())
        return TurnResult(session.id, SessionState.CLOSED, (Reply(confirmation.text),))

    async def _convert_to_callback(self, session_id: int, phone: str) -> Message | None:
        """The waiting ticket becomes a callback task, due now or when the centre opens again."""
        now = utcnow()
        due = now if self._hours.is_open(now) else (self._hours.next_opening(now) or now)
        async with self._sessions() as db, db.begin():
            result = await lifecycle.convert_to_callback(db, session_id, phone, due)
            if not result.done:
                return None
            assert result.session is not None and result.ticket is not None
            lang = result.session.language
            when = (
                self._messages.get("callback_soon", lang)
                if due <= now
                else self._messages.get("callback_when_open", lang, opening=self._when(due, lang))
            )
            text = self._messages.get("callback_confirmed", lang, phone=phone, when=when)
            confirmation = self._system_note(db, session_id, text)
            await outbox.write(db, self._bus, lifecycle.live_event(result), confirmation)
        logger.info("callback requested ticket_id=%s session_id=%s", result.ticket.id, session_id)
        return confirmation

    async def request_callback(
        self, session_id: int, *, phone: str | None, reason: str, topic: str, summary: str
    ) -> int:
        """For channels (the voice menu): store a callback task with the context card; the session
        ends. Uses the session's waiting ticket if there is one. Returns the ticket id."""
        async with self._sessions() as db:
            session = await db.get(ConversationSession, session_id)
            if session is None:
                raise LookupError(f"no session {session_id}")
            ticket = await ticket_of_session(db, session_id)
            phone = phone or await known_phone(db, session)
        if phone is None:
            raise ValueError("no number to call back")
        if session.state != SessionState.QUEUED or ticket is None or ticket.status != TicketStatus.QUEUED:
            await self.escalate(session_id, reason=reason, topic=topic, summary=summary)
        if await self._convert_to_callback(session_id, phone) is None:
            raise LookupError(f"session {session_id} was claimed by an operator meanwhile")
        async with self._sessions() as db:
            ticket = await ticket_of_session(db, session_id)
            assert ticket is not None
            return ticket.id

    async def _take_rating(self, turn: InboundTurn, text: str) -> TurnResult | None:
        """A 1-5 answer to the survey after an operator closed the session; None for anything else."""
        rating = to_ascii_digits(text)
        if rating not in {"1", "2", "3", "4", "5"}:
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
            self._system_note(db, latest.id, thanks.text)
        return TurnResult(latest.id, latest.state, (thanks,))

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
            await self.escalate(
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
        await self.escalate(
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
            stored = [
                add_message(
                    db, session.id, Direction.OUT, author, reply.text,
                    {"buttons": [asdict(b) for b in reply.buttons]} if reply.buttons else None,
                )
                for reply in replies
            ]  # fmt: skip
            await outbox.write(db, self._bus, *stored)

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

    # --- Phone calls (ivr/): a call is a session from the moment it is answered -----------------

    async def start_call(self, customer_key: str, *, channel: str, language: str, phone: str | None) -> int:
        """Open (or continue) the caller's session before a word is said; the caller's number goes
        on the customer card, so orders placed with that number are found. Returns the session id."""
        async with self._locks.hold(customer_key), self._sessions() as db, db.begin():
            customer, session = await customer_and_open_session(db, customer_key)
            if customer is None:
                customer = await get_or_create_customer(db, customer_key, language)
            if phone:
                await fill_customer_card(db, customer.id, None, verified_phone=phone)
            now = utcnow()
            if session is not None and is_idle(session, now, self._idle_minutes):
                session = await _close_idle(db, session)
            if session is None:
                session = await open_session(db, customer, channel, language)
            session.last_activity_at = now
            return session.id

    async def note_call_exchange(
        self,
        session_id: int,
        *,
        heard: str | None = None,
        said: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """What the phone menu heard (keys) and said, stored like chat turns for the context card."""
        async with self._sessions() as db, db.begin():
            stored = []
            if heard:
                stored.append(
                    add_message(db, session_id, Direction.IN, MessageAuthor.CUSTOMER, heard, metadata or None)
                )
            if said:
                stored.append(add_message(db, session_id, Direction.OUT, MessageAuthor.BOT, said))
            await outbox.write(db, self._bus, *stored)

    async def end_call(self, session_id: int, *, abandoned: bool, by: str) -> None:
        """The call is over: a session still with the bot closes; a silent line counts as abandoned.
        A queued session stays queued (the operator calls back or takes the transferred call)."""
        kind = SessionEventKind.ABANDONED if abandoned else SessionEventKind.CLOSED
        async with self._sessions() as db, db.begin():
            await lifecycle.end_bot_session(db, session_id, kind, by)


async def _close_idle(db: AsyncSession, session: ConversationSession) -> ConversationSession | None:
    """None when the idle session closed; the session as it is now when it changed meanwhile."""
    result = await lifecycle.end_bot_session(db, session.id, SessionEventKind.CLOSED, "idle")
    return None if result.done else result.session


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
