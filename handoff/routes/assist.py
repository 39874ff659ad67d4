"""Agent assist for operators: suggested answers to the customer's latest message in a ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from handoff.assist import AgentAssist
from handoff.deps import CurrentOperator, HandoffDep, TicketId

router = APIRouter(prefix="/api/operator", tags=["assist"])


def get_assist(request: Request) -> AgentAssist:
    return request.app.state.assist  # type: ignore[no-any-return]


AssistDep = Annotated[AgentAssist, Depends(get_assist)]


class SuggestionPublic(BaseModel):
    id: str = Field(description='"faq/<topic>" or "order_status"; send it back as the reply\'s `suggestion`')
    text: str = Field(description="in the ticket's language, for the operator to edit and send")
    confidence: float = Field(description="0..1; an order found by its number or phone is 1")


class SuggestionsPublic(BaseModel):
    ticket_id: int
    language: str
    message_id: int | None = Field(description="the customer message answered; null when there is none")
    suggestions: list[SuggestionPublic] = Field(description="at most three, best first")
    reason: str | None = Field(
        description="why there are none: no_customer_message, bot_unavailable or nothing_confident"
    )


@router.get("/tickets/{ticket_id}/suggestions", response_model=SuggestionsPublic)
async def read_suggestions(
    ticket_id: TicketId, handoff: HandoffDep, assist: AssistDep, operator: CurrentOperator
) -> SuggestionsPublic:
    """Answers for the customer's latest message from the bot's own model and the order store.
    Nothing is sent to the customer; with the bot unreachable the list is empty and says why."""
    found = await handoff.ticket_details(ticket_id)  # whoever may read the ticket may see these
    ticket = found["ticket"]
    result = await assist.suggest(ticket, found["messages"])
    return SuggestionsPublic(
        ticket_id=ticket.id,
        language=ticket.language,
        message_id=result.message_id,
        suggestions=[SuggestionPublic(id=s.id, text=s.text, confidence=s.confidence) for s in result.items],
        reason=result.reason,
    )
