"""Live updates for operator consoles as Server-Sent Events (new tickets, claims, closes, messages)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from core.events import EventBus, LiveEvent
from handoff.deps import HandoffDep
from handoff.presence import Presence

router = APIRouter(prefix="/api/operator", tags=["operator"])

KEEPALIVE_S = 15.0


def _frame(event: LiveEvent) -> str:
    return f"event: {event.kind}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n"


async def _stream(
    request: Request, bus: EventBus, presence: Presence, operator_id: int
) -> AsyncIterator[str]:
    # An open console is what makes an operator "online" for auto-offers.
    with presence.online(operator_id):
        async for frame in _frames(request, bus, operator_id):
            yield frame


async def _frames(request: Request, bus: EventBus, operator_id: int) -> AsyncIterator[str]:
    # Colleagues' consoles and the auto-offer loop hear of it; this console does not need its own news.
    bus.publish(LiveEvent("operator_online", {"operator_id": operator_id}))
    async with bus.subscribe() as queue:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"  # proxies close idle connections
                continue
            yield _frame(event)


@router.get("/events", response_class=StreamingResponse)
async def read_events(
    request: Request,
    handoff: HandoffDep,
    token: Annotated[str | None, Query(description="the log-in token (EventSource sends no headers)")] = None,
) -> StreamingResponse:
    """`ticket_queued`, `ticket_offered`, `ticket_claimed`, `ticket_closed` and `message` events as they
    happen. While the stream is open the operator counts as online (auto-offers go to online operators)."""
    operator = await handoff.operator_for_token(token) if token else None
    if operator is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid or expired token")
    return StreamingResponse(
        _stream(request, request.app.state.bus, handoff.presence, operator.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
