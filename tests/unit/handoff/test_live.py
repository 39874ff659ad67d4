"""Live events reach every connected console as Server-Sent Events frames."""

import json

import pytest

from core.events import EventBus, LiveEvent
from handoff.presence import Presence
from handoff.routes.live import _stream


class _Client:
    """The part of a request the stream looks at: whether the console is still connected."""

    def __init__(self) -> None:
        self.connected = True

    async def is_disconnected(self) -> bool:
        return not self.connected


async def test_events_become_sse_frames_and_the_subscription_ends_with_the_client() -> None:
    bus = EventBus()
    client = _Client()
    presence = Presence()
    async with bus.subscribe() as colleague:
        stream = _stream(client, bus, presence, 42)  # type: ignore[arg-type]
        assert await anext(stream) == ": connected\n\n"
        assert colleague.get_nowait() == LiveEvent("operator_online", {"operator_id": 42})
    assert len(bus) == 1
    assert set(presence.since()) == {42}  # an open console is an online operator

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
    assert presence.since() == {}
