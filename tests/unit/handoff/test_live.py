"""Live events reach every connected console as Server-Sent Events frames."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from core.events import EventBus, LiveEvent
from handoff.logins import LOGGED_OUT
from handoff.passwords import token_digest
from handoff.routes.live import Console, _stream
from handoff.stream_tickets import Holder


class _Statuses:
    """The part of operators' statuses a stream uses, without its table: nothing to record here."""

    @asynccontextmanager
    async def console_open(self, operator_id: int) -> AsyncIterator[None]:
        yield


class _Client:
    """The part of a request the stream looks at: whether the console is still connected (and the
    app's operator statuses, which its opening and closing change)."""

    def __init__(self) -> None:
        self.connected = True
        self.app = SimpleNamespace(state=SimpleNamespace(operator_statuses=_Statuses()))

    async def is_disconnected(self) -> bool:
        return not self.connected


class _Logins:
    """The part of the log-ins a stream uses: whether a log-in still works."""

    def __init__(self) -> None:
        self.logged_in = True

    async def operator_for_digest(self, digest: str) -> object | None:
        return object() if self.logged_in else None


class _Presence:
    """The part of presence a stream uses, without its table: who has a stream open."""

    def __init__(self) -> None:
        self.open: list[int] = []

    @asynccontextmanager
    async def online(self, operator_id: int) -> AsyncIterator[None]:
        self.open.append(operator_id)
        try:
            yield
        finally:
            self.open.remove(operator_id)

    async def since(self) -> dict[int, datetime]:
        return dict.fromkeys(self.open, datetime(2026, 12, 1, tzinfo=UTC))


def _console() -> Console:
    return Console(handoff=None, logins=_Logins(), presence=_Presence())  # type: ignore[arg-type]


async def test_events_become_sse_frames_and_the_subscription_ends_with_the_client() -> None:
    bus = EventBus()
    client = _Client()
    console = _console()
    presence = console.presence
    stream = _stream(client, bus, console, Holder(42, token_digest("t-42")))  # type: ignore[arg-type]
    assert await anext(stream) == ": connected\n\n"
    assert len(bus) == 1
    assert set(await presence.since()) == {42}  # an open console is an online operator

    bus.publish(LiveEvent("ticket_queued", {"ticket_id": 7, "session_id": 3}))
    bus.publish(LiveEvent("message", {"session_id": 3, "message": {"text": "سلام"}}))
    first, second = await anext(stream), await anext(stream)
    assert first.startswith("event: ticket_queued\n")
    assert json.loads(first.split("data: ")[1]) == {"ticket_id": 7, "session_id": 3}
    assert "سلام" in second  # not escaped: consoles show it as written

    client.connected = False
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert len(bus) == 0  # a closed console holds no queue
    assert await presence.since() == {}


async def test_logging_out_ends_that_log_ins_stream_only() -> None:
    bus = EventBus()
    mine = _stream(_Client(), bus, _console(), Holder(42, token_digest("mine")))  # type: ignore[arg-type]
    assert await anext(mine) == ": connected\n\n"
    bus.publish(LiveEvent(LOGGED_OUT, {"token_hash": token_digest("a colleague's")}))
    bus.publish(LiveEvent("ticket_queued", {"ticket_id": 8}))
    assert (await anext(mine)).startswith("event: ticket_queued\n")  # a colleague's log-out: not shown
    bus.publish(LiveEvent(LOGGED_OUT, {"token_hash": token_digest("mine")}))
    assert (await anext(mine)).startswith(f"event: {LOGGED_OUT}\n")
    with pytest.raises(StopAsyncIteration):
        await anext(mine)
