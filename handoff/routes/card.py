"""The customer card an operator corrects (with its history), and the conversations keyword alerts
flagged (for the queue's badges)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from handoff.card_edits import CardEdits, CustomerCard, InvalidCardValue
from handoff.deps import CurrentOperator, TicketId
from handoff.repo_alerts import flagged_conversations

router = APIRouter(prefix="/api/operator", tags=["operator"])

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses NUL in text


def get_card_edits(request: Request) -> CardEdits:
    return request.app.state.card_edits  # type: ignore[no-any-return]


CardEditsDep = Annotated[CardEdits, Depends(get_card_edits)]


class CardChangePublic(BaseModel):
    field: str
    old_value: str | None
    new_value: str | None
    operator_id: int
    operator_name: str
    at: datetime


class CustomerCardPublic(BaseModel):
    customer_id: int
    key: str
    language: str
    full_name: str | None
    phone: str | None
    address: str | None
    note: str | None
    changes: list[CardChangePublic] = Field(description="every correction, newest first")


class CardEditBody(BaseModel):
    """The fields to change; a field left out stays as it is, null or "" clears it."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200, pattern=_NO_NUL)
    phone: str | None = Field(default=None, max_length=40, pattern=_NO_NUL)
    address: str | None = Field(default=None, max_length=1000, pattern=_NO_NUL)
    note: str | None = Field(default=None, max_length=2000, pattern=_NO_NUL)


class FlaggedPhrase(BaseModel):
    phrase: str
    language: str


class FlaggedConversationPublic(BaseModel):
    session_id: int
    ticket_id: int | None
    phrases: list[FlaggedPhrase]
    alerts: int
    last_at: datetime


@router.get("/tickets/{ticket_id}/customer", response_model=CustomerCardPublic)
async def read_customer_card(
    ticket_id: TicketId, edits: CardEditsDep, operator: CurrentOperator
) -> CustomerCardPublic:
    """The customer's card as it is now, with who corrected what and when; 403 unless you handle
    the ticket (or supervise)."""
    return _public(await edits.card(ticket_id, operator))


@router.patch("/tickets/{ticket_id}/customer", response_model=CustomerCardPublic)
async def update_customer_card(
    ticket_id: TicketId, body: CardEditBody, edits: CardEditsDep, operator: CurrentOperator
) -> CustomerCardPublic:
    """Correct name, phone, address or note; each changed field is recorded with its old value.
    A phone in any digits, with its country code or as a national number of the customer's
    country, is stored in E.164; anything else is 422."""
    try:
        card = await edits.edit(ticket_id, operator, body.model_dump(exclude_unset=True))
    except InvalidCardValue as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    return _public(card)


@router.get("/alerts", response_model=list[FlaggedConversationPublic])
async def read_flagged_conversations(
    request: Request, operator: CurrentOperator
) -> list[FlaggedConversationPublic]:
    """Conversations not closed yet in which the customer wrote a watched phrase, newest first."""
    async with request.app.state.db_sessions() as db:
        flagged = await flagged_conversations(db)
    return [
        FlaggedConversationPublic(
            session_id=f.session_id,
            ticket_id=f.ticket_id,
            phrases=[FlaggedPhrase(**p) for p in f.phrases],
            alerts=f.alerts,
            last_at=f.last_at,
        )
        for f in flagged
    ]


def _public(card: CustomerCard) -> CustomerCardPublic:
    return CustomerCardPublic(
        customer_id=card.customer_id,
        key=card.key,
        language=card.language,
        **card.values,
        changes=[CardChangePublic(**vars(change)) for change in card.changes],
    )
