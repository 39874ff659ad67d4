"""What supervisors do: watch every live conversation and operator, read along, whisper, take over,
reassign, answer operators' asks for help, and give roles.

Take-over and reassignment are transitions of core.lifecycle; a whisper is a ticket note of kind
"whisper" whose live event only consoles hear (channels relay `message` events alone); an ask is
a row of `supervisor_asks`, open until a supervisor acknowledges it or takes the conversation over."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core import lifecycle, outbox
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind, NoteKind, OperatorRole, OperatorStatus, SessionEventKind
from core.messages import SystemMessages
from core.models import (
    Base,
    ConversationSession,
    Customer,
    HandoffTicket,
    Message,
    Operator,
    SessionState,
    TicketKind,
    TicketNote,
    TicketStatus,
    utcnow,
)
from core.repo.sessions import add_system_note, record_event, transcript
from handoff import operator_status
from handoff.errors import NotYourTicket, TicketConflict, TicketNotFound
from handoff.kpi import AskRow, Period
from handoff.presence import Presence
from handoff.service import _raise_unless_done

# The live list shows at most this many conversations, the most recently active first.
LIVE_LIMIT = 300


class AskAnswer(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"
    TAKEN_OVER = "taken_over"


class SupervisorAsk(Base):
    """An operator's call for a supervisor on a conversation they handle, with its reason."""

    __tablename__ = "supervisor_asks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    reason: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(index=True)


@dataclass(frozen=True)
class LiveConversation:
    session: ConversationSession
    customer: Customer
    ticket: HandoffTicket | None  # the ticket not yet closed, if the session has one
    open_asks: int


@dataclass(frozen=True)
class OperatorOverview:
    operator: Operator
    status: OperatorStatus
    status_since: datetime | None
    online: bool
    handling: int  # conversations and callbacks assigned to them now


@dataclass(frozen=True)
class ReadAlong:
    session: ConversationSession
    customer: Customer
    ticket: HandoffTicket | None
    messages: list[Message]
    notes: list[TicketNote]
    asks: list[SupervisorAsk]


class Supervision:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        messages: SystemMessages,
        presence: Presence,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._messages = messages
        self._presence = presence

    # --- What supervisors see ---------------------------------------------------------------------

    async def live_conversations(self) -> list[LiveConversation]:
        """Every session not closed (with the bot, waiting, with an operator), newest activity first."""
        async with self._sessions() as db:
            rows = (
                await db.execute(
                    select(ConversationSession, Customer)
                    .join(Customer, Customer.id == ConversationSession.customer_id)
                    .where(ConversationSession.state != SessionState.CLOSED.value)
                    .order_by(ConversationSession.last_activity_at.desc(), ConversationSession.id.desc())
                    .limit(LIVE_LIMIT)
                )
            ).all()
            ids = [session.id for session, _ in rows]
            tickets = {
                t.session_id: t
                for t in await db.scalars(
                    select(HandoffTicket)
                    .where(
                        HandoffTicket.session_id.in_(ids),
                        HandoffTicket.status != TicketStatus.CLOSED.value,
                        HandoffTicket.kind == TicketKind.SESSION.value,
                    )
                    .order_by(HandoffTicket.id)
                )
            }
            asks = dict(
                (
                    await db.execute(
                        select(SupervisorAsk.session_id, func.count())
                        .where(SupervisorAsk.session_id.in_(ids), SupervisorAsk.answered_at.is_(None))
                        .group_by(SupervisorAsk.session_id)
                    )
                ).all()
            )
        return [LiveConversation(s, c, tickets.get(s.id), int(asks.get(s.id, 0))) for s, c in rows]

    async def operators(self) -> list[OperatorOverview]:
        """Every operator with their status, whether a console of theirs is open, and their load."""
        online = await self._presence.since()
        async with self._sessions() as db:
            everyone = list(await db.scalars(select(Operator).order_by(Operator.display_name, Operator.id)))
            statuses = await operator_status.current(db)
            handling = dict(
                (
                    await db.execute(
                        select(HandoffTicket.operator_id, func.count())
                        .where(HandoffTicket.status == TicketStatus.ASSIGNED.value)
                        .group_by(HandoffTicket.operator_id)
                    )
                ).all()
            )
        return [
            _overview(o, statuses.get(o.id), o.id in online, int(handling.get(o.id, 0))) for o in everyone
        ]

    async def read_along(self, session_id: int) -> ReadAlong:
        """A conversation as its operator sees it, with whispers and asks; live events follow it."""
        async with self._sessions() as db:
            session = await db.get(ConversationSession, session_id)
            if session is None:
                raise TicketNotFound(f"no session {session_id}")
            customer = await db.get(Customer, session.customer_id)
            assert customer is not None
            ticket = await db.scalar(
                select(HandoffTicket)
                .where(HandoffTicket.session_id == session_id)
                .order_by(HandoffTicket.id.desc())
                .limit(1)
            )
            notes: list[TicketNote] = []
            asks: list[SupervisorAsk] = []
            if ticket is not None:
                notes = list(
                    await db.scalars(
                        select(TicketNote).where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)
                    )
                )
                asks = list(
                    await db.scalars(
                        select(SupervisorAsk)
                        .where(SupervisorAsk.ticket_id == ticket.id)
                        .order_by(SupervisorAsk.id)
                    )
                )
            return ReadAlong(session, customer, ticket, await transcript(db, session_id), notes, asks)

    async def whispers(self, ticket_id: int) -> list[TicketNote]:
        async with self._sessions() as db:
            if await db.get(HandoffTicket, ticket_id) is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            return list(
                await db.scalars(
                    select(TicketNote)
                    .where(TicketNote.ticket_id == ticket_id, TicketNote.kind == NoteKind.WHISPER.value)
                    .order_by(TicketNote.id)
                )
            )

    async def open_asks(self) -> list[SupervisorAsk]:
        async with self._sessions() as db:
            return list(
                await db.scalars(
                    select(SupervisorAsk)
                    .where(SupervisorAsk.answered_at.is_(None))
                    .order_by(SupervisorAsk.asked_at, SupervisorAsk.id)
                )
            )

    async def ask_rows(self, period: Period) -> list[AskRow]:
        """The asks made in a period, for the figures."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(
                    SupervisorAsk.operator_id,
                    SupervisorAsk.asked_at,
                    SupervisorAsk.answered_at,
                    SupervisorAsk.answer,
                ).where(SupervisorAsk.asked_at >= period.since, SupervisorAsk.asked_at < period.until)
            )
            return [AskRow(*row) for row in rows]

    # --- What supervisors do ----------------------------------------------------------------------

    async def whisper(self, ticket_id: int, supervisor: Operator, text: str) -> TicketNote:
        """A note for the handling operator, shown live in their console; never sent to the customer."""
        async with self._sessions() as db, db.begin():
            ticket = await db.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            if ticket.status == TicketStatus.CLOSED.value:
                raise TicketConflict("the ticket is closed")
            note = TicketNote(
                ticket_id=ticket.id, operator_id=supervisor.id, text=text, kind=NoteKind.WHISPER.value
            )
            db.add(note)
            await db.flush()
            data = {
                "ticket_id": ticket.id,
                "session_id": ticket.session_id,
                "operator_id": ticket.operator_id,  # whose console shows it in the transcript
                "note": _note_data(note, supervisor),
            }
            await outbox.write(db, self._bus, LiveEvent(LiveEventKind.WHISPER, data))
        return note

    async def take_over(self, ticket_id: int, supervisor: Operator) -> HandoffTicket:
        """The supervisor becomes the operator; the customer is told who joined; open asks on the
        conversation count as answered."""
        async with self._sessions() as db, db.begin():
            result = await lifecycle.take_over(db, ticket_id, supervisor)
            if result.outcome is lifecycle.Outcome.ALREADY:
                raise TicketConflict(result.why)
            _raise_unless_done(result, supervisor)
            assert result.session is not None and result.ticket is not None
            answered = await _answer_open(db, result.ticket, supervisor, AskAnswer.TAKEN_OVER)
            joined = self._joined(db, result.session, supervisor.display_name)
            await outbox.write(db, self._bus, lifecycle.live_event(result), joined, *answered)
            return result.ticket

    async def reassign(self, ticket_id: int, supervisor: Operator, to_operator_id: int) -> HandoffTicket:
        async with self._sessions() as db, db.begin():
            result = await lifecycle.reassign(db, ticket_id, supervisor, to_operator_id)
            _raise_unless_done(result, supervisor)
            assert result.session is not None and result.ticket is not None
            colleague = await db.get(Operator, to_operator_id)
            assert colleague is not None
            joined = self._joined(db, result.session, colleague.display_name)
            await outbox.write(db, self._bus, lifecycle.live_event(result), joined)
            return result.ticket

    async def acknowledge(self, ask_id: int, supervisor: Operator) -> SupervisorAsk | None:
        """None when there is no such ask; TicketConflict when another supervisor answered it."""
        async with self._sessions() as db, db.begin():
            ask = await db.get(SupervisorAsk, ask_id, with_for_update=True)
            if ask is None:
                return None
            if ask.answered_at is not None:
                raise TicketConflict("another supervisor has answered it already")
            event = await _answer(db, ask, supervisor, AskAnswer.ACKNOWLEDGED)
            await outbox.write(db, self._bus, event)
            return ask

    async def set_role(self, operator_id: int, role: OperatorRole) -> Operator | None:
        """None when there is no such operator; the last supervisor cannot stop being one."""
        async with self._sessions() as db, db.begin():
            operator = await db.get(Operator, operator_id, with_for_update=True)
            if operator is None:
                return None
            if operator.role == OperatorRole.SUPERVISOR and role != OperatorRole.SUPERVISOR:
                others = await db.scalar(
                    select(func.count())
                    .select_from(Operator)
                    .where(Operator.role == OperatorRole.SUPERVISOR.value, Operator.id != operator.id)
                )
                if not others:
                    raise TicketConflict("the last supervisor keeps the role: make another one first")
            operator.role = role
            return operator

    # --- What operators do --------------------------------------------------------------------------

    async def ask(self, ticket_id: int, operator: Operator, reason: str) -> SupervisorAsk:
        """An operator calls a supervisor to a conversation they handle; supervisors hear it live."""
        async with self._sessions() as db, db.begin():
            ticket = await db.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            if ticket.status != TicketStatus.ASSIGNED.value or ticket.operator_id != operator.id:
                raise NotYourTicket("only the ticket's operator can ask a supervisor about it")
            waiting = await db.scalar(
                select(SupervisorAsk.id).where(
                    SupervisorAsk.ticket_id == ticket.id, SupervisorAsk.answered_at.is_(None)
                )
            )
            if waiting is not None:
                raise TicketConflict("a supervisor has been asked already and will answer")
            ask = SupervisorAsk(
                ticket_id=ticket.id, session_id=ticket.session_id, operator_id=operator.id, reason=reason
            )
            db.add(ask)
            await db.flush()
            session = await db.get(ConversationSession, ticket.session_id)
            assert session is not None
            detail = {"ticket_id": ticket.id, "ask_id": ask.id, "operator_id": operator.id, "reason": reason}
            await record_event(
                db, session, SessionEventKind.SUPERVISOR_ASKED, session.state, session.state, detail
            )
            await outbox.write(db, self._bus, LiveEvent(LiveEventKind.SUPERVISOR_ASKED, ask_data(ask)))
            return ask

    def _joined(self, db: AsyncSession, session: ConversationSession, name: str) -> Message:
        return add_system_note(
            db, session.id, self._messages.get("operator_joined", session.language, name=name)
        )


def ask_data(ask: SupervisorAsk) -> dict[str, Any]:
    """An ask as the API and the live stream show it."""
    return {
        "ask_id": ask.id,
        "ticket_id": ask.ticket_id,
        "session_id": ask.session_id,
        "operator_id": ask.operator_id,
        "reason": ask.reason,
        "asked_at": ask.asked_at.isoformat(),
        "answer": ask.answer,
        "answered_by": ask.answered_by,
        "answered_at": ask.answered_at.isoformat() if ask.answered_at else None,
    }


def _note_data(note: TicketNote, author: Operator) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.kind,
        "author_id": author.id,
        "author_name": author.display_name,
        "text": note.text,
        "at": note.created_at.isoformat(),
    }


def _overview(
    operator: Operator, now: operator_status.StatusNow | None, online: bool, handling: int
) -> OperatorOverview:
    status = operator_status.shown(now, online)
    return OperatorOverview(operator, status, now.since if now else None, online, handling)


async def _answer_open(
    db: AsyncSession, ticket: HandoffTicket, supervisor: Operator, answer: AskAnswer
) -> list[LiveEvent]:
    asks = await db.scalars(
        select(SupervisorAsk)
        .where(SupervisorAsk.ticket_id == ticket.id, SupervisorAsk.answered_at.is_(None))
        .with_for_update()
    )
    return [await _answer(db, ask, supervisor, answer) for ask in list(asks)]


async def _answer(db: AsyncSession, ask: SupervisorAsk, supervisor: Operator, answer: AskAnswer) -> LiveEvent:
    ask.answered_by, ask.answer, ask.answered_at = supervisor.id, answer.value, utcnow()
    session = await db.get(ConversationSession, ask.session_id)
    assert session is not None
    detail = {"ticket_id": ask.ticket_id, "ask_id": ask.id, "by": supervisor.id, "answer": answer.value}
    await record_event(
        db, session, SessionEventKind.SUPERVISOR_ANSWERED, session.state, session.state, detail
    )
    return LiveEvent(LiveEventKind.SUPERVISOR_ANSWERED, ask_data(ask))
