"""Supervisor routes (403 for operators without the role), and the two an operator uses:
asking a supervisor about a conversation, and reading the whispers on it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from core.kinds import OperatorRole
from core.models import HandoffTicket, TicketNote
from core.schemas import MAX_ROW_ID
from handoff.deps import CurrentOperator, CurrentSupervisor, SupervisionDep, TicketId
from handoff.supervision import LiveConversation, OperatorOverview, SupervisorAsk, ask_data

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"])
operator_router = APIRouter(prefix="/api/operator", tags=["operator"])

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
_TEXT = r"^[^\x00]*$"  # PostgreSQL refuses NUL


class TicketBrief(BaseModel):
    id: int
    status: str
    topic: str
    reason: str
    priority: int
    operator_id: int | None
    created_at: datetime


class ConversationPublic(BaseModel):
    session_id: int
    state: str = Field(description="bot, queued or operator")
    channel: str
    language: str
    customer: str = Field(description="the customer's name, or their channel key without one")
    started_at: datetime
    last_activity_at: datetime
    ticket: TicketBrief | None
    open_asks: int


class OperatorStatusPublic(BaseModel):
    id: int
    login: str
    display_name: str
    role: str
    status: str = Field(description="available, break, after_call_work or offline")
    status_since: datetime | None
    online: bool = Field(description="a console of theirs is open")
    handling: int = Field(description="tickets assigned to them now")


class WhisperPublic(BaseModel):
    id: int
    ticket_id: int
    author_id: int
    text: str
    at: datetime


class MessagePublic(BaseModel):
    id: int
    direction: str
    author: str
    text: str
    at: datetime
    payload: dict[str, Any] | None = None


class NotePublic(WhisperPublic):
    kind: str = Field(description="note (the operator's own) or whisper (a supervisor's)")


class AskPublic(BaseModel):
    ask_id: int
    ticket_id: int
    session_id: int
    operator_id: int
    reason: str
    asked_at: datetime
    answer: str | None = Field(description="null while open; acknowledged or taken_over")
    answered_by: int | None
    answered_at: datetime | None


class ReadAlongPublic(BaseModel):
    conversation: ConversationPublic
    messages: list[MessagePublic]
    notes: list[NotePublic]
    asks: list[AskPublic]


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000, pattern=_TEXT)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500, pattern=_TEXT)


class ReassignBody(BaseModel):
    to_operator_id: int = Field(ge=1, le=MAX_ROW_ID)


class RoleBody(BaseModel):
    role: OperatorRole


class RolePublic(BaseModel):
    id: int
    login: str
    role: str


# --- Supervisors ------------------------------------------------------------------------------------


@router.get("/conversations", response_model=list[ConversationPublic])
async def read_conversations(supervision: SupervisionDep, _: CurrentSupervisor) -> list[ConversationPublic]:
    """Every live conversation: with the bot, waiting, or with an operator; latest activity first."""
    return [_conversation(c) for c in await supervision.live_conversations()]


@router.get("/operators", response_model=list[OperatorStatusPublic])
async def read_operators(supervision: SupervisionDep, _: CurrentSupervisor) -> list[OperatorStatusPublic]:
    """Every operator's status, whether their console is open, and how many tickets they hold."""
    return [_operator(o) for o in await supervision.operators()]


@router.get("/sessions/{session_id}", response_model=ReadAlongPublic)
async def read_session(
    session_id: RowId, supervision: SupervisionDep, _: CurrentSupervisor
) -> ReadAlongPublic:
    """Read along: the transcript, notes, whispers and asks; the live stream carries what follows
    (`message` events with this session id)."""
    found = await supervision.read_along(session_id)
    return ReadAlongPublic(
        conversation=_conversation(
            LiveConversation(
                found.session,
                found.customer,
                found.ticket,
                sum(a.answered_at is None for a in found.asks),
            )
        ),
        messages=[
            MessagePublic(
                id=m.id,
                direction=m.direction,
                author=m.author,
                text=m.text,
                at=m.created_at,
                payload=m.payload,
            )
            for m in found.messages
        ],
        notes=[NotePublic(**_whisper(n).model_dump(), kind=n.kind) for n in found.notes],
        asks=[_ask(a) for a in found.asks],
    )


@router.post("/tickets/{ticket_id}/whisper", response_model=WhisperPublic)
async def create_whisper(
    ticket_id: TicketId, body: TextBody, supervision: SupervisionDep, supervisor: CurrentSupervisor
) -> WhisperPublic:
    """A note the handling operator sees at once in their console; the customer never does."""
    return _whisper(await supervision.whisper(ticket_id, supervisor, body.text))


@router.post("/tickets/{ticket_id}/take-over", response_model=TicketBrief)
async def create_take_over(
    ticket_id: TicketId, supervision: SupervisionDep, supervisor: CurrentSupervisor
) -> TicketBrief:
    """You become the conversation's operator (409 when it is not with an operator, or yours)."""
    return _ticket(await supervision.take_over(ticket_id, supervisor))


@router.post("/tickets/{ticket_id}/reassign", response_model=TicketBrief)
async def create_reassign(
    ticket_id: TicketId, body: ReassignBody, supervision: SupervisionDep, supervisor: CurrentSupervisor
) -> TicketBrief:
    """Give the conversation to another operator (409 at their session limit)."""
    return _ticket(await supervision.reassign(ticket_id, supervisor, body.to_operator_id))


@router.get("/asks", response_model=list[AskPublic])
async def read_asks(supervision: SupervisionDep, _: CurrentSupervisor) -> list[AskPublic]:
    """Operators' asks nobody has answered yet, the oldest first."""
    return [_ask(a) for a in await supervision.open_asks()]


@router.post("/asks/{ask_id}/acknowledge", response_model=AskPublic)
async def create_acknowledgement(
    ask_id: RowId, supervision: SupervisionDep, supervisor: CurrentSupervisor
) -> AskPublic:
    """You have seen the ask and take care of it (409 when another supervisor did)."""
    ask = await supervision.acknowledge(ask_id, supervisor)
    if ask is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no ask {ask_id}")
    return _ask(ask)


@router.put("/operators/{operator_id}/role", response_model=RolePublic)
async def update_role(
    operator_id: RowId, body: RoleBody, supervision: SupervisionDep, _: CurrentSupervisor
) -> RolePublic:
    """Make an operator a supervisor or take the role back (the last supervisor keeps it: 409)."""
    operator = await supervision.set_role(operator_id, body.role)
    if operator is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no operator {operator_id}")
    return RolePublic(id=operator.id, login=operator.login, role=operator.role)


# --- Operators ---------------------------------------------------------------------------------------


@operator_router.post("/tickets/{ticket_id}/ask-supervisor", response_model=AskPublic)
async def create_ask(
    ticket_id: TicketId, body: ReasonBody, supervision: SupervisionDep, operator: CurrentOperator
) -> AskPublic:
    """Call a supervisor to a conversation you handle, saying why; it stays on their list until one
    acknowledges it or takes the conversation over (409 while an earlier ask is open)."""
    return _ask(await supervision.ask(ticket_id, operator, body.reason))


@operator_router.get("/tickets/{ticket_id}/whispers", response_model=list[WhisperPublic])
async def read_whispers(
    ticket_id: TicketId, supervision: SupervisionDep, _: CurrentOperator
) -> list[WhisperPublic]:
    """Supervisors' whispers on a ticket, oldest first; later ones arrive as `whisper` live events."""
    return [_whisper(n) for n in await supervision.whispers(ticket_id)]


# --- Shapes ------------------------------------------------------------------------------------------


def _conversation(c: LiveConversation) -> ConversationPublic:
    return ConversationPublic(
        session_id=c.session.id,
        state=c.session.state,
        channel=c.session.channel,
        language=c.session.language,
        customer=c.customer.full_name or c.customer.key,
        started_at=c.session.started_at,
        last_activity_at=c.session.last_activity_at,
        ticket=_ticket(c.ticket) if c.ticket is not None else None,
        open_asks=c.open_asks,
    )


def _ticket(t: HandoffTicket) -> TicketBrief:
    return TicketBrief(
        id=t.id,
        status=t.status,
        topic=t.topic,
        reason=t.reason,
        priority=t.priority,
        operator_id=t.operator_id,
        created_at=t.created_at,
    )


def _operator(o: OperatorOverview) -> OperatorStatusPublic:
    return OperatorStatusPublic(
        id=o.operator.id,
        login=o.operator.login,
        display_name=o.operator.display_name,
        role=o.operator.role,
        status=o.status,
        status_since=o.status_since,
        online=o.online,
        handling=o.handling,
    )


def _whisper(n: TicketNote) -> WhisperPublic:
    return WhisperPublic(
        id=n.id, ticket_id=n.ticket_id, author_id=n.operator_id, text=n.text, at=n.created_at
    )


def _ask(a: SupervisorAsk) -> AskPublic:
    return AskPublic.model_validate(ask_data(a))
