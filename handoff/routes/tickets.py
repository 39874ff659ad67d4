"""The queue and what an operator does with a ticket: claim, reply, note, close, return to the bot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, field_validator, model_validator

from core.kinds import ALL_TOPICS, OPERATOR_DISPOSITIONS, Disposition, MessageAuthor, Topic
from core.models import HandoffTicket, Operator, utcnow
from core.mood import trend as mood_trend
from handoff.deps import CurrentOperator, HandoffDep, TicketId
from handoff.routes.assist import AssistDep

router = APIRouter(prefix="/api/operator", tags=["operator"])


class TicketPublic(BaseModel):
    id: int
    session_id: int
    status: str
    reason: str
    topic: str
    summary: str
    language: str
    priority: int
    channel: str
    operator_id: int | None
    created_at: datetime
    waiting_seconds: float
    # "session" (a conversation waiting for a person) or "callback" (a task: call the customer back).
    kind: str = "session"
    callback_phone: str | None = None
    # When a callback is due: at once, or when the contact centre opens again.
    callback_after: datetime | None = None
    # Auto-offer: the operator this ticket is reserved for at the moment, if any.
    offered_to: int | None = None
    # Whether the ticket's topic and language are among the operator's skills and languages.
    matches_me: bool = False
    # The customer's mood in their latest message (calm / negative / angry, core/mood.py) and where
    # it goes over their latest few: "rising" (more upset), "falling" or "steady"; None before any.
    mood: str | None = None
    mood_trend: str | None = None


class MessagePublic(BaseModel):
    id: int
    direction: str
    author: str
    text: str
    at: datetime
    # Buttons the customer was shown, a media attachment ({"kind", "url", ...}) and the like.
    payload: dict[str, Any] | None = None
    # A customer message's mood when it was stored; None for the front line's own messages.
    mood: str | None = None


class NotePublic(BaseModel):
    id: int
    operator_id: int
    text: str
    at: datetime


class TicketDetails(BaseModel):
    ticket: TicketPublic
    session_state: str
    card: dict[str, Any]
    messages: list[MessagePublic]
    notes: list[NotePublic]


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000, pattern=r"^[^\x00]*$")  # PostgreSQL refuses NUL


class ReplyBody(TextBody):
    # The agent-assist suggestion the reply started from ("faq/roaming"), counted in the figures.
    suggestion: str | None = Field(default=None, min_length=1, max_length=80, pattern=r"^[\w/.\-]+$")


class TransferBody(BaseModel):
    """Exactly one of: a colleague's login (assigned at once) or a topic (back to the queue)."""

    to_operator: str | None = Field(default=None, min_length=1, max_length=64)
    to_topic: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> TransferBody:
        if (self.to_operator is None) == (self.to_topic is None):
            raise ValueError("give exactly one of to_operator, to_topic")
        return self


class CloseBody(BaseModel):
    disposition: Disposition

    @field_validator("disposition", mode="before")
    @classmethod
    def _an_operators_choice(cls, value: object) -> object:
        # "abandoned" and "returned_to_bot" are the front line's to record: they drive the figures.
        if not isinstance(value, str) or value not in OPERATOR_DISPOSITIONS:
            raise ValueError(f"an operator closes with one of {sorted(map(str, OPERATOR_DISPOSITIONS))}")
        return value


def _matches(ticket: HandoffTicket, operator: Operator | None) -> bool:
    if operator is None:
        return False
    skills = set(operator.skills)
    topic_ok = ticket.topic in skills or ticket.topic == Topic.GENERAL or ALL_TOPICS in skills
    return topic_ok and ticket.language.split("-")[0] in set(operator.languages)


def _public(ticket: HandoffTicket, operator: Operator | None = None) -> TicketPublic:
    created = ticket.created_at
    return TicketPublic(
        id=ticket.id,
        session_id=ticket.session_id,
        status=ticket.status,
        reason=ticket.reason,
        topic=ticket.topic,
        summary=ticket.summary,
        language=ticket.language,
        priority=ticket.priority,
        channel=str(ticket.card.get("session", {}).get("channel", "")),
        operator_id=ticket.operator_id,
        created_at=created,
        waiting_seconds=round((utcnow() - created).total_seconds(), 1),
        kind=ticket.kind,
        callback_phone=ticket.callback_phone,
        callback_after=ticket.callback_after,
        offered_to=ticket.offered_to,
        matches_me=_matches(ticket, operator),
    )


@router.get("/queue", response_model=list[TicketPublic])
async def read_queue(
    handoff: HandoffDep, operator: CurrentOperator, mine: bool = False
) -> list[TicketPublic]:
    """Waiting sessions, highest priority first, then longest wait; `mine=true`: only those
    matching the operator's skills and languages."""
    tickets = [_public(t, operator) for t in await handoff.queue()]
    moods = await handoff.latest_moods([t.session_id for t in tickets])
    for ticket in tickets:
        _set_mood(ticket, moods.get(ticket.session_id, []))
    return [t for t in tickets if t.matches_me] if mine else tickets


def _set_mood(ticket: TicketPublic, moods: Sequence[str]) -> None:
    """The latest of the customer's moods (oldest first), and their trend."""
    if moods:
        ticket.mood, ticket.mood_trend = moods[-1], mood_trend(moods)


@router.get("/callbacks", response_model=list[TicketPublic])
async def read_callbacks(
    handoff: HandoffDep, operator: CurrentOperator, include_closed: bool = False
) -> list[TicketPublic]:
    """Callback tasks (booked out of hours or instead of a long wait), the ones due first. Claim one,
    call the number, then close it with a disposition, like a session."""
    return [_public(t, operator) for t in await handoff.callbacks(include_closed=include_closed)]


@router.get("/tickets/{ticket_id}", response_model=TicketDetails)
async def read_ticket(ticket_id: TicketId, handoff: HandoffDep, operator: CurrentOperator) -> TicketDetails:
    """The context card (frozen at escalation) and the live transcript, before or after claiming."""
    found = await handoff.ticket_details(ticket_id)
    ticket = found["ticket"]
    public = _public(ticket)
    _set_mood(public, [m.mood for m in found["messages"] if m.author == MessageAuthor.CUSTOMER and m.mood])
    return TicketDetails(
        ticket=public,
        session_state=found["session_state"],
        card=ticket.card,
        messages=[
            MessagePublic(
                id=m.id,
                direction=m.direction,
                author=m.author,
                text=m.text,
                at=m.created_at,
                payload=m.payload,
                mood=m.mood,
            )
            for m in found["messages"]
        ],
        notes=[
            NotePublic(id=n.id, operator_id=n.operator_id, text=n.text, at=n.created_at)
            for n in found["notes"]
        ],
    )


@router.post("/tickets/{ticket_id}/claim", response_model=TicketPublic)
async def create_claim(ticket_id: TicketId, handoff: HandoffDep, operator: CurrentOperator) -> TicketPublic:
    """409 when another operator was faster, the ticket is closed, or you are at your limit."""
    return _public(await handoff.claim(ticket_id, operator))


@router.post("/tickets/{ticket_id}/messages", response_model=MessagePublic)
async def create_message(
    ticket_id: TicketId, body: ReplyBody, handoff: HandoffDep, assist: AssistDep, operator: CurrentOperator
) -> MessagePublic:
    """A reply to the customer, delivered on the session's channel; `suggestion`: the agent-assist
    suggestion it started from, if any."""
    m = await handoff.reply(ticket_id, operator, body.text)
    if body.suggestion:
        await assist.record_reply(ticket_id, operator, m, body.suggestion)
    return MessagePublic(id=m.id, direction=m.direction, author=m.author, text=m.text, at=m.created_at)


@router.post("/tickets/{ticket_id}/notes", response_model=NotePublic)
async def create_note(
    ticket_id: TicketId, body: TextBody, handoff: HandoffDep, operator: CurrentOperator
) -> NotePublic:
    """A private note: operators see it, the customer never does."""
    n = await handoff.add_note(ticket_id, operator, body.text)
    return NotePublic(id=n.id, operator_id=n.operator_id, text=n.text, at=n.created_at)


@router.post("/tickets/{ticket_id}/close", status_code=status.HTTP_204_NO_CONTENT)
async def create_close(
    ticket_id: TicketId, body: CloseBody, handoff: HandoffDep, operator: CurrentOperator
) -> None:
    await handoff.close(ticket_id, operator, body.disposition)


@router.post("/tickets/{ticket_id}/return-to-bot", status_code=status.HTTP_204_NO_CONTENT)
async def create_return_to_bot(ticket_id: TicketId, handoff: HandoffDep, operator: CurrentOperator) -> None:
    """The bot resumes the conversation with everything it knew (slots, form progress)."""
    await handoff.return_to_bot(ticket_id, operator)


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
async def create_transfer(
    ticket_id: TicketId, body: TransferBody, handoff: HandoffDep, operator: CurrentOperator
) -> TicketPublic:
    """Hand the session to a colleague, or back to the queue for another skill."""
    ticket = await handoff.transfer(ticket_id, operator, to_login=body.to_operator, to_topic=body.to_topic)
    return _public(ticket)
