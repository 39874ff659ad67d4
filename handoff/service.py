"""The operator side's public API: the queue, claiming, replies, notes, transfers, closing, return to bot.

Log-ins are handoff.logins', auto-offers handoff.auto_offer's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.dialogue import RasaClient
from core.events import EventBus, LiveEvent
from core.kinds import (
    OPERATOR_DISPOSITIONS,
    Direction,
    Disposition,
    MessageAuthor,
    Mood,
    SessionEventKind,
)
from core.messages import SystemMessages
from core.models import (
    ConversationSession,
    HandoffTicket,
    Message,
    Operator,
    SessionEvent,
    TicketKind,
    TicketNote,
    TicketStatus,
    utcnow,
)
from core.repo.moods import latest_moods
from core.repo.sessions import add_message, add_system_note, record_event, transcript
from handoff.errors import NotYourTicket, TicketConflict, TicketNotFound

logger = logging.getLogger(__name__)

DISPOSITIONS = OPERATOR_DISPOSITIONS


class HandoffService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        messages: SystemMessages,
        *,
        serialize_claims: bool = False,
        bus: EventBus | None = None,
        offer_timeout: timedelta = timedelta(seconds=20),
    ) -> None:
        self._bus = bus if bus is not None else EventBus()
        self._offer_timeout = offer_timeout
        self._sessions = sessions
        self._rasa = rasa
        self._messages = messages
        # SQLite has one writer at a time and makes the others sleep and retry: queueing claims
        # in-process instead keeps them fast. The lifecycle's lock and state check stay the guard.
        self._claim_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if serialize_claims else contextlib.nullcontext()
        )

    async def operators(self) -> list[Operator]:
        async with self._sessions() as db:
            return list(await db.scalars(select(Operator).order_by(Operator.display_name, Operator.id)))

    async def queue(self) -> list[HandoffTicket]:
        """Waiting tickets: highest priority first, then longest wait."""
        async with self._sessions() as db:
            rows = await db.scalars(
                select(HandoffTicket)
                .where(HandoffTicket.status == TicketStatus.QUEUED.value)
                .order_by(HandoffTicket.priority.desc(), HandoffTicket.created_at, HandoffTicket.id)
            )
            return list(rows)

    async def latest_moods(self, session_ids: list[int]) -> dict[int, list[Mood]]:
        """Each session's latest customer moods, oldest first (for the queue's mood and trend)."""
        async with self._sessions() as db:
            return await latest_moods(db, session_ids)

    async def live_events_after(self, last_id: int, limit: int) -> list[LiveEvent] | None:
        """What a reconnecting console missed after the event it saw last, oldest first; None when
        that is no longer known (or too much): the console must reload its lists."""
        async with self._sessions() as db:
            return await outbox.events_after(db, last_id, limit)

    async def callbacks(self, *, include_closed: bool = False) -> list[HandoffTicket]:
        """Callback tasks, the ones due first; closed ones too when asked (the day's record)."""
        async with self._sessions() as db:
            query = select(HandoffTicket).where(HandoffTicket.kind == TicketKind.CALLBACK.value)
            if not include_closed:
                query = query.where(HandoffTicket.status != TicketStatus.CLOSED.value)
            rows = await db.scalars(query.order_by(HandoffTicket.callback_after, HandoffTicket.id))
            return list(rows)

    async def ticket_details(self, ticket_id: int) -> dict[str, Any]:
        """The frozen context card plus what happened since: the live transcript and private notes."""
        async with self._sessions() as db:
            ticket = await _ticket(db, ticket_id)
            session = await db.get(ConversationSession, ticket.session_id)
            assert session is not None
            notes = await db.scalars(
                select(TicketNote).where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)
            )
            return {
                "ticket": ticket,
                "session_state": session.state,
                "messages": await transcript(db, session.id),
                "notes": list(notes),
            }

    async def claim(self, ticket_id: int, operator: Operator) -> HandoffTicket:
        """Atomic: of several operators claiming at once exactly one wins, on SQLite and PostgreSQL."""
        expired = utcnow() - self._offer_timeout
        async with self._claim_lock, self._sessions() as db, db.begin():
            result = await lifecycle.claim(db, ticket_id, operator, expired)
            _raise_unless_done(result, operator)
            assert result.session is not None and result.ticket is not None
            joined = None
            if result.ticket.kind == TicketKind.SESSION:
                text = self._messages.get(
                    "operator_joined", result.session.language, name=operator.display_name
                )
                joined = add_system_note(db, result.session.id, text)
            await outbox.write(db, self._bus, lifecycle.live_event(result), joined)
        logger.info("ticket claimed ticket_id=%s operator_id=%s", ticket_id, operator.id)
        return result.ticket

    async def reply(self, ticket_id: int, operator: Operator, text: str) -> Message:
        async with self._sessions() as db, db.begin():
            ticket = await _own_ticket(db, ticket_id, operator)
            _live_conversation(ticket)
            session = await _session_of(db, ticket)
            first = SessionEventKind.FIRST_OPERATOR_REPLY
            if not await _has_event(db, session.id, first, ticket.id):
                await record_event(
                    db, session, first, session.state, session.state,
                    {"ticket_id": ticket.id, "operator_id": operator.id},
                )  # fmt: skip
            message = add_message(
                db,
                session.id,
                Direction.OUT,
                MessageAuthor.OPERATOR,
                text,
                {"operator": operator.display_name},
            )
            await outbox.write(db, self._bus, message)
        return message

    async def add_note(self, ticket_id: int, operator: Operator, text: str) -> TicketNote:
        async with self._sessions() as db, db.begin():
            ticket = await _ticket(db, ticket_id)
            note = TicketNote(ticket_id=ticket.id, operator_id=operator.id, text=text)
            db.add(note)
        return note

    async def close(self, ticket_id: int, operator: Operator, disposition: str) -> None:
        if disposition not in DISPOSITIONS:
            raise ValueError(f"disposition must be one of {sorted(DISPOSITIONS)}")
        told: list[Message] = []
        async with self._sessions() as db, db.begin():
            result = await lifecycle.close(db, ticket_id, operator, Disposition(disposition))
            _raise_unless_done(result, operator)
            assert result.session is not None and result.ticket is not None
            if result.ticket.kind == TicketKind.SESSION:
                told = await self._say_goodbye(db, result.session, result.ticket, operator, disposition)
            await outbox.write(db, self._bus, lifecycle.live_event(result), *told)

    async def _say_goodbye(
        self,
        db: AsyncSession,
        session: ConversationSession,
        ticket: HandoffTicket,
        operator: Operator,
        disposition: str,
    ) -> list[Message]:
        """The customer is told the operator left and, unless it was spam, asked for a rating."""
        lang = session.language
        told = [
            add_system_note(
                db, session.id, self._messages.get("operator_left", lang, name=operator.display_name)
            )
        ]
        if disposition != Disposition.SPAM:
            buttons = [{"title": str(n), "payload": str(n)} for n in range(1, 6)]
            told.append(
                add_system_note(
                    db, session.id, self._messages.get("survey_question", lang), {"buttons": buttons}
                )
            )
            await record_event(
                db,
                session,
                SessionEventKind.SURVEY_ASKED,
                session.state,
                session.state,
                {"ticket_id": ticket.id},
            )
        return told

    async def transfer(
        self, ticket_id: int, operator: Operator, *, to_login: str | None, to_topic: str | None
    ) -> HandoffTicket:
        """To a named colleague (assigned at once) or back to the queue under another skill."""
        if (to_login is None) == (to_topic is None):
            raise ValueError("transfer to exactly one of: an operator, a topic")
        note = None
        async with self._sessions() as db, db.begin():
            if to_login is not None:
                result = await lifecycle.transfer_to_operator(db, ticket_id, operator, to_login)
            else:
                result = await lifecycle.transfer_to_topic(db, ticket_id, operator, str(to_topic))
            _raise_unless_done(result, operator)
            assert result.session is not None and result.ticket is not None
            if result.ticket.kind == TicketKind.SESSION:
                text = self._messages.get("transferred", result.session.language)
                note = add_system_note(db, result.session.id, text)
            await outbox.write(db, self._bus, lifecycle.live_event(result), note)
        return result.ticket

    async def return_to_bot(self, ticket_id: int, operator: Operator) -> None:
        """Hands the session back; Rasa resumes the paused tracker, so the bot keeps what it knew."""
        async with self._sessions() as db:
            ticket = await _own_ticket(db, ticket_id, operator)
            _live_conversation(ticket)
            sender_id = (await _session_of(db, ticket)).rasa_sender_id
        await self._rasa.resume(sender_id)
        async with self._sessions() as db, db.begin():
            result = await lifecycle.return_to_bot(db, ticket_id, operator)
            _raise_unless_done(result, operator)
            assert result.session is not None
            back = add_system_note(
                db, result.session.id, self._messages.get("back_to_bot", result.session.language)
            )
            await outbox.write(db, self._bus, lifecycle.live_event(result), back)


def _live_conversation(ticket: HandoffTicket) -> None:
    if ticket.kind == TicketKind.CALLBACK.value:
        raise TicketConflict(f"a callback task: call the customer at {ticket.callback_phone}, then close it")


def _raise_unless_done(result: lifecycle.Result, operator: Operator) -> None:
    """The transition's outcome as the error the routes map to 404, 403 or 409."""
    if result.outcome is lifecycle.Outcome.NOT_FOUND:
        raise TicketNotFound(result.why)
    if result.outcome is lifecycle.Outcome.NOT_YOURS:
        raise NotYourTicket(result.why)
    if result.done:
        return
    ticket = result.ticket
    if (
        ticket is not None
        and ticket.kind == TicketKind.CALLBACK
        and result.action is lifecycle.Action.RETURN_TO_BOT
    ):
        _live_conversation(ticket)
    if result.action is lifecycle.Action.CLAIM and ticket is not None and ticket.operator_id == operator.id:
        raise TicketConflict("already yours")
    raise TicketConflict(result.why)


async def _ticket(db: AsyncSession, ticket_id: int) -> HandoffTicket:
    ticket = await db.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return ticket


async def _own_ticket(db: AsyncSession, ticket_id: int, operator: Operator) -> HandoffTicket:
    ticket = await _ticket(db, ticket_id)
    if ticket.status != TicketStatus.ASSIGNED.value or ticket.operator_id != operator.id:
        raise NotYourTicket("claim the ticket first; only its operator can act on it")
    return ticket


async def _session_of(db: AsyncSession, ticket: HandoffTicket) -> ConversationSession:
    session = await db.get(ConversationSession, ticket.session_id)
    assert session is not None
    return session


async def _has_event(db: AsyncSession, session_id: int, kind: SessionEventKind, ticket_id: int) -> bool:
    events = await db.scalars(
        select(SessionEvent.detail).where(SessionEvent.session_id == session_id, SessionEvent.kind == kind)
    )
    return any((detail or {}).get("ticket_id") == ticket_id for detail in events)
