"""In-process publish/subscribe for live updates (operator consoles, channels' relays).

Events about stored state reach the bus once their transaction committed, carrying their outbox
id, and in id order. On SQLite the committing session publishes them (core/outbox.py); on
PostgreSQL the process's outbox listener does (core/outbox_listener.py), for the events of every
app process, its own included. Events about no stored state (presence, log-out) have no outbox
row: core/live_notices.py hands them to every process's bus once their transaction commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.kinds import LiveEventKind

logger = logging.getLogger(__name__)

SUBSCRIBER_QUEUE = 1000


@dataclass(frozen=True)
class LiveEvent:
    kind: LiveEventKind
    data: dict[str, Any]
    # The outbox row's id once stored; None for events about no stored state (presence, log-out).
    id: int | None = None


class EventBus:
    def __init__(self, *, fed_by_listener: bool = False) -> None:
        # True when a database listener publishes the stored events: the committing session then
        # leaves them to it, so a subscriber hears each once, in id order.
        self.fed_by_listener = fed_by_listener
        self._subscribers: set[asyncio.Queue[LiveEvent]] = set()

    def publish(self, event: LiveEvent) -> None:
        """Never blocks the publisher: a subscriber that cannot keep up loses events and is told so."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("live subscriber too slow, event dropped kind=%s", event.kind)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def __len__(self) -> int:
        return len(self._subscribers)


def message_event(message: Any) -> LiveEvent:
    """A stored message as a live event (once flushed, so it has an id and a time)."""
    return LiveEvent(
        LiveEventKind.MESSAGE,
        {
            "session_id": message.session_id,
            "message": {
                "id": message.id,
                "direction": message.direction,
                "author": message.author,
                "text": message.text,
                "payload": message.payload,
                "at": message.created_at.isoformat(),
                # A customer message's mood (core/mood.py); None for the front line's own messages.
                "mood": getattr(message, "mood", None),
            },
        },
    )
