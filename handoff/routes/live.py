"""Live updates for operator consoles as Server-Sent Events (new tickets, claims, closes, messages).

Every event about stored state carries its outbox id (`id:`). A console that reconnects says the
last id it saw (the `Last-Event-ID` header, or `last_event_id` for a fresh EventSource) and first
gets what it missed from the outbox, then live events, each exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from handoff.deps import BearerCredentials, CurrentOperator, HandoffDep, LoginsDep, PresenceDep
from handoff.logins import LOGGED_OUT, Logins
from handoff.presence import Presence
from handoff.service import HandoffService
from handoff.stream_tickets import Holder, StreamTickets

router = APIRouter(prefix="/api/operator", tags=["operator"])

KEEPALIVE_S = 15.0
RECHECK_S = 15.0  # how often an open stream checks that its operator is still logged in
# A console that missed more than this reloads its lists instead of hearing every event.
REPLAY_LIMIT = 1000
# Sent instead of a replay the outbox cannot give (pruned, unknown or too long): reload the lists.
RESYNC = "resync"
MAX_ID = 2**31 - 1  # the outbox id column's range
ONLINE = LiveEventKind.OPERATOR_ONLINE


def _frame(event: LiveEvent) -> str:
    head = f"id: {event.id}\n" if event.id is not None else ""
    return f"{head}event: {event.kind}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n"


@dataclass(frozen=True)
class Console:
    """What one console's stream reads: the replay, whether its log-in still works, who is online."""

    handoff: HandoffService
    logins: Logins
    presence: Presence


async def _stream(
    request: Request, bus: EventBus, console: Console, holder: Holder, last_id: str | None = None
) -> AsyncIterator[str]:
    # An open console is what makes an operator "online" for auto-offers, on every app process.
    # Their status: available as it opens, offline once their last console has closed (presence first).
    statuses = request.app.state.operator_statuses
    async with console.presence.online(holder.operator_id), statuses.console_open(holder.operator_id):
        async for frame in _frames(request, bus, console, holder, last_id):
            yield frame


async def _frames(
    request: Request, bus: EventBus, console: Console, holder: Holder, last_id: str | None
) -> AsyncIterator[str]:
    # Colleagues' consoles and the auto-offer loop on every process hear `operator_online` from presence.
    checked = time.monotonic()
    # Subscribed before the replay is read: an event committed meanwhile is in one or both, and
    # `seen` (ids follow commit order) drops the second copy.
    async with bus.subscribe() as queue:
        yield ": connected\n\n"
        seen = 0  # the highest outbox id this console has
        if last_id is not None:
            missed = await _missed(console.handoff, last_id)
            if missed is None:
                yield f"event: {RESYNC}\ndata: {{}}\n\n"  # after a reload every event is news
            else:
                seen = int(last_id)
                for event in missed:
                    yield _frame(event)
                    seen = event.id or seen
        while not await request.is_disconnected():
            if time.monotonic() - checked >= RECHECK_S:
                # A stream outlives its request: log-out or expiry of the token must end it too.
                if await console.logins.operator_for_digest(holder.token_hash) is None:
                    yield f"event: {LOGGED_OUT}\ndata: {{}}\n\n"
                    return
                checked = time.monotonic()
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"  # proxies close idle connections
                continue
            if event.kind == ONLINE and event.data.get("operator_id") == holder.operator_id:
                continue  # the operator's own consoles (this one, other tabs) need not hear their own news
            if event.kind == LOGGED_OUT:  # only this log-in's own stream hears of it, and ends
                if event.data.get("token_hash") == holder.token_hash:
                    yield _frame(event)
                    return
                continue
            if event.id is not None:
                if event.id <= seen:
                    continue  # replayed already
                seen = event.id
            yield _frame(event)


async def _missed(handoff: HandoffService, last_id: str) -> list[LiveEvent] | None:
    """The replay after the console's last event id; None when it cannot be given."""
    if not (last_id.isascii() and last_id.isdigit()) or int(last_id) > MAX_ID:
        return None  # not an id this stream ever sent
    return await handoff.live_events_after(int(last_id), REPLAY_LIMIT)


def _tickets(request: Request) -> StreamTickets:
    if not hasattr(request.app.state, "stream_tickets"):
        ttl_s = request.app.state.settings.scale_out.stream_ticket_ttl_s
        request.app.state.stream_tickets = StreamTickets(request.app.state.db_sessions, ttl_s=ttl_s)
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
        ticket=await tickets.issue(operator.id, credentials.credentials), expires_in=int(tickets.ttl_s)
    )


@router.get("/events", response_class=StreamingResponse)
async def read_events(
    request: Request,
    handoff: HandoffDep,
    logins: LoginsDep,
    presence: PresenceDep,
    ticket: Annotated[str | None, Query(description="from POST /api/operator/events/ticket")] = None,
    last_event_id: Annotated[
        str | None, Query(description="the last event id seen, for a new EventSource after a drop")
    ] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """`ticket_queued`, `ticket_offered`, `ticket_claimed`, `ticket_closed` and `message` events as they
    happen, each with its id; after a last event id, first those that followed it, or `resync` when
    they are no longer kept (reload the lists). `logged_out` and the end of the stream when the
    operator's log-in ends. While the stream is open the operator counts as online (auto-offers go
    to online operators)."""
    holder = await _tickets(request).redeem(ticket) if ticket else None
    if holder is None or await logins.operator_for_digest(holder.token_hash) is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="invalid, used or expired ticket: get one from /events/ticket",
        )
    return StreamingResponse(
        _stream(
            request,
            request.app.state.bus,
            Console(handoff, logins, presence),
            holder,
            last_event_id_header or last_event_id,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
