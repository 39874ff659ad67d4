"""Pending updates and long polling, with Telegram's confirmation rules.

An update stays pending until the bot confirms it by calling getUpdates with a higher `offset`
(or a webhook delivery is answered with 2xx), so a bot that crashes after reading but before
confirming gets the same update again. Only one getUpdates may wait at a time: a newer one ends
the older one with 409 Conflict, as when two copies of a bot poll with one token.

Update ids grow by one, except that after a week without updates Telegram picks the next id at
random (`renumber`): then a new update may have an id below an offset the bot already sent, and a
getUpdates with that offset neither returns it nor keeps it (it counts as confirmed).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from testing.telegram.fake.errors import POLL_CONFLICT, ApiError

# Telegram's default when allowed_updates is empty or never given.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_LIMIT = 100


@dataclass
class Pending:
    update: dict[str, Any]
    replay: bool = False  # pushed again on purpose: delivered once even below the confirmed offset
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


def update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class UpdateQueue:
    def __init__(self, first_update_id: int = 10_001) -> None:
        self.pending: list[Pending] = []
        self.history: dict[int, dict[str, Any]] = {}
        self.last_update_id = first_update_id - 1
        self.confirmed_offset = 0
        self.allowed_updates: frozenset[str] | None = None
        self._poll: asyncio.Future[str] | None = None

    # producing

    def next_id(self) -> int:
        return self.last_update_id + 1

    def push(self, update: dict[str, Any]) -> int:
        given = "update_id" in update
        update_id = int(update.setdefault("update_id", self.next_id()))
        replay = given and (update_id in self.history or update_id <= self.last_update_id)
        self.last_update_id = update_id if not given else max(self.last_update_id, update_id)
        self.history[update_id] = update
        if self._allowed(update_type(update)):
            self.pending.append(Pending(update, replay=replay))
            self._wake("update")
        return update_id

    def renumber(self, next_update_id: int) -> None:
        """A week passed without updates: the next update gets `next_update_id` (Telegram's random
        pick; it may be lower than any id before, even one already used)."""
        if self.pending:
            raise RuntimeError(f"{len(self.pending)} updates are pending: Telegram renumbers only when idle")
        self.last_update_id = next_update_id - 1

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in _NOT_DELIVERED_BY_DEFAULT
        return kind in self.allowed_updates

    def set_allowed(self, allowed: list[str] | None) -> None:
        """An empty list means Telegram's default; the setting stays until changed, like Telegram's."""
        if allowed is not None:
            self.allowed_updates = frozenset(allowed) or None

    # consuming

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self.pending = [
                p for p in self.pending if p.update_id >= offset or (p.replay and not p.delivered)
            ]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def drop_all(self) -> None:
        self.pending.clear()

    def _deliverable(self, offset: int) -> list[Pending]:
        """What a getUpdates with this offset may return: updates from `offset` on (a replay too)."""
        if offset <= 0:
            return self.pending
        return [p for p in self.pending if p.update_id >= offset or p.replay]

    def take(self, limit: int, offset: int = 0) -> list[dict[str, Any]]:
        batch = self._deliverable(offset)[:limit]
        for pending in batch:
            pending.delivered = True
        return [pending.update for pending in batch]

    def remove(self, update_id: int) -> None:
        self.pending = [p for p in self.pending if p.update_id != update_id]

    async def poll(self, *, offset: int, limit: int, timeout: float) -> list[dict[str, Any]]:
        """getUpdates: confirm, then answer at once if anything is pending, else wait up to `timeout`."""
        self.confirm(offset)
        self._end_poll("conflict")  # an older poll still waiting is terminated by this one
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._deliverable(offset) and (remaining := deadline - loop.time()) > 0:
            self._poll = loop.create_future()
            poll = self._poll
            with contextlib.suppress(TimeoutError):
                reason = await asyncio.wait_for(asyncio.shield(poll), remaining)
                if reason == "conflict":
                    raise ApiError(409, POLL_CONFLICT)
                if reason == "webhook":
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                if reason == "closed":
                    return []
            if self._poll is poll:
                self._poll = None
        return self.take(limit, offset)

    def _wake(self, reason: str) -> None:
        if self._poll is not None and not self._poll.done():
            self._poll.set_result(reason)

    def _end_poll(self, reason: str) -> None:
        self._wake(reason)
        self._poll = None

    def end_poll_for_webhook(self) -> None:
        self._end_poll("webhook")

    def close(self) -> None:
        """Release a waiting poll so the server can stop without waiting out its timeout."""
        self._end_poll("closed")
