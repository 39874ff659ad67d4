"""Callback tasks: a waiting customer (or one who calls out of hours) asks to be called back.

A callback is a handoff ticket of kind "callback": operators see it in the queue, claim it, call the
number and close it with a disposition, like a session. The conversation itself is closed (the
conversion is a transition in core.lifecycle). `CallbackFlow` offers it, takes the customer's yes and
number, and books it; the voice menu books one directly."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.escalation import Escalation
from core.events import EventBus
from core.hours import BusinessHours
from core.kinds import MessageAuthor
from core.messages import SystemMessages
from core.models import ConversationSession, Customer, Message, SessionState, TicketStatus, utcnow
from core.phones import parse_phone
from core.repo.orders import orders_of_customer
from core.repo.sessions import add_system_note
from core.repo.tickets import ticket_of_session
from core.schemas import Button, Reply, TurnResult
from core.waiting import BACK_TO_BOT

logger = logging.getLogger(__name__)

# Button payloads of the callback offer, and the marker of a question waiting for a phone number.
CALLBACK = "/callback"
AWAITING_PHONE = "callback_phone"
# Numbering plans tried for a callback number without a country code when none are configured.
DEFAULT_PHONE_REGIONS = ("US", "GB")


def callback_buttons(titles: tuple[str, str], back_to_bot: str) -> list[dict[str, str]]:
    """[Call me back] [Back to the virtual assistant]."""
    return [{"title": titles[0], "payload": CALLBACK}, {"title": titles[1], "payload": back_to_bot}]


async def known_phone(db: AsyncSession, session: ConversationSession) -> str | None:
    """A number to call: the one on the customer card, the caller's own on the phone channel, or
    the one the customer gave in their own latest order."""
    customer = await db.get(Customer, session.customer_id)
    assert customer is not None
    if customer.phone:
        return customer.phone
    if customer.key.startswith("tel:"):
        return customer.key.removeprefix("tel:")
    own = await orders_of_customer(db, customer.id, limit=1)
    return own[0].phone if own else None


async def awaiting_phone(db: AsyncSession, session_id: int) -> bool:
    """Whether the core's last message to this session asked for a number to call back."""
    last = await db.scalar(
        select(Message)
        .where(Message.session_id == session_id, Message.author == MessageAuthor.SYSTEM)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return last is not None and (last.payload or {}).get("awaiting") == AWAITING_PHONE


class CallbackFlow:
    """A callback from the offer to the booked task; the conversion itself is core.lifecycle's."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        messages: SystemMessages,
        bus: EventBus,
        escalation: Escalation,
        hours: BusinessHours,
        phone_regions: Callable[[str], Sequence[str]] = lambda _language: DEFAULT_PHONE_REGIONS,
    ) -> None:
        self._sessions = sessions
        self._messages = messages
        self._bus = bus
        self._escalation = escalation
        self._hours = hours
        # Where a callback number without a country code is looked up, per session language.
        self._phone_regions = phone_regions

    async def offer(self, session_id: int, why: str) -> Reply | None:
        """[Call me back] [Back to the bot], because the centre is closed or the wait is long.
        None when the customer no longer waits (claimed a moment ago): nothing is offered."""
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
            message = add_system_note(db, session_id, text, {"buttons": buttons, "callback_offer": why})
            await outbox.write(db, self._bus, message)
        return Reply(text, tuple(Button(**b) for b in buttons))

    async def accept(self, session: ConversationSession) -> TurnResult:
        """The customer pressed [Call me back]: booked, unless a number to call must be asked first."""
        async with self._sessions() as db:
            phone = await known_phone(db, session)
        if phone is None:
            return await self._ask_for_phone(session, "callback_phone_question")
        return await self._confirm(session, phone)

    async def take_phone(self, session: ConversationSession, text: str) -> TurnResult:
        """The answer to "which number should we call?"; asked again until it is a number."""
        phone = parse_phone(text, self._phone_regions(session.language))
        if phone is None:
            return await self._ask_for_phone(session, "callback_phone_invalid")
        return await self._confirm(session, phone)

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
            await self._escalation.escalate(session_id, reason=reason, topic=topic, summary=summary)
        if await self._convert(session_id, phone) is None:
            raise LookupError(f"session {session_id} was claimed by an operator meanwhile")
        async with self._sessions() as db:
            ticket = await ticket_of_session(db, session_id)
            assert ticket is not None
            return ticket.id

    async def _ask_for_phone(self, session: ConversationSession, key: str) -> TurnResult:
        async with self._sessions() as db, db.begin():
            text = self._messages.get(key, session.language)
            question = add_system_note(db, session.id, text, {"awaiting": AWAITING_PHONE})
            await outbox.write(db, self._bus, question)
        return TurnResult(session.id, session.state, (Reply(question.text),))

    async def _confirm(self, session: ConversationSession, phone: str) -> TurnResult:
        confirmation = await self._convert(session.id, phone)
        if confirmation is None:  # an operator claimed the session meanwhile and is answering
            return TurnResult(session.id, SessionState.OPERATOR, ())
        return TurnResult(session.id, SessionState.CLOSED, (Reply(confirmation.text),))

    async def _convert(self, session_id: int, phone: str) -> Message | None:
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
            confirmation = add_system_note(db, session_id, text)
            await outbox.write(db, self._bus, lifecycle.live_event(result), confirmation)
        logger.info("callback requested ticket_id=%s session_id=%s", result.ticket.id, session_id)
        return confirmation

    def _when(self, moment: datetime | None, language: str) -> str:
        """An opening time as the customer reads it: local to the contact centre, with its zone."""
        if moment is None:
            return self._messages.get("when_we_open", language)
        local = moment.astimezone(self._hours.timezone)
        return f"{local:%Y-%m-%d %H:%M} ({self._hours.timezone.key})"
