"""Live updates for operator consoles as Server-Sent Events (new tickets, claims, closes, messages)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from handoff.deps import BearerCredentials, CurrentOperator, HandoffDep
from handoff.passwords import token_digest
from handoff.service import LOGGED_OUT, HandoffService
from handoff.stream_tickets import Holder, StreamTickets

router = APIRouter(prefix="/api/operator", tags=["operator"])

KEEPALIVE_S = 15.0
RECHECK_S = 15.0  # how often an open stream checks that its operator is still logged in


def _frame(event: LiveEvent) -> str:
    return f"event: {event.kind}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n"


async def _stream(
    request: Request, bus: EventBus, handoff: HandoffService, holder: Holder
) -> AsyncIterator[str]:
    # An open console is what makes an operator "online" for auto-offers.
    with handoff.presence.online(holder.operator_id):
        async for frame in _frames(request, bus, handoff, holder):
            yield frame


async def _frames(
    request: Request, bus: EventBus, handoff: HandoffService, holder: Holder
) -> AsyncIterator[str]:
    # Colleagues' consoles and the auto-offer loop hear of it; this console does not need its own news.
    bus.publish(LiveEvent(LiveEventKind.OPERATOR_ONLINE, {"operator_id": holder.operator_id}))
    checked = time.monotonic()
    async with bus.subscribe() as queue:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            if time.monotonic() - checked >= RECHECK_S:
                # A stream outlives its request: log-out or expiry of the token must end it too.
                if await handoff.operator_for_token(holder.token) is None:
                    yield f"event: {LOGGED_OUT}\ndata: {{}}\n\n"
                    return
                checked = time.monotonic()
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"  # proxies close idle connections
                continue
            if event.kind == LOGGED_OUT:  # only this log-in's own stream hears of it, and ends
                if event.data.get("token_hash") == token_digest(holder.token):
                    yield _frame(event)
                    return
                continue
            yield _frame(event)


def _tickets(request: Request) -> StreamTickets:
    if not hasattr(request.app.state, "stream_tickets"):
        request.app.state.stream_tickets = StreamTickets()
    return request.app.state.stream_tickets  # type: ignore[no-any-return]


class StreamTicket(BaseModel):
    ticket: str
    expires_in: int = Field(description="seconds; a ticket opens one stream, once")


@router.post("/events/ticket", response_model=StreamTicket)
async def create_stream_ticket(
    request: Request, operator: CurrentOperator, credentials: BearerCredentials
) -> StreamTicket:
    """A single-use ticket for GET /api/operator/events (which EventSource opens without headers)."""
    tickets = _tickets(request)
    return StreamTicket(
        ticket=tickets.issue(operator.id, credentials.credentials), expires_in=int(tickets.ttl_s)
    )


@router.get("/events", response_class=StreamingResponse)
async def read_events(
    request: Request,
    handoff: HandoffDep,
    ticket: Annotated[str | None, Query(description="from POST /api/operator/events/ticket")] = None,
) -> StreamingResponse:
    """`ticket_queued`, `ticket_offered`, `ticket_claimed`, `ticket_closed` and `message` events as they
    happen; `logged_out` and the end of the stream when the operator's log-in ends. While the stream
    is open the operator counts as online (auto-offers go to online operators)."""
    holder = _tickets(request).redeem(ticket) if ticket else None
    if holder is None or await handoff.operator_for_token(holder.token) is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="invalid, used or expired ticket: get one from /events/ticket",
        )
    return StreamingResponse(
        _stream(request, request.app.state.bus, handoff, holder),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
