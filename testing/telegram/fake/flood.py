"""Opt-in flood control: Telegram's sending limits, answered with 429 and `retry_after`.

Telegram lets a short burst through and then refuses messages beyond about one per second in a
chat, twenty per minute in a group and thirty per second overall. Token buckets model that:
each chat (and the bot as a whole) holds a few tokens that refill at the allowed rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from testing.telegram.fake.errors import too_many_requests


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self, now: float) -> float:
        """0 if a token was taken, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass(frozen=True)
class FloodLimits:
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    overall_per_second: float = 30.0
    burst: int = 3


class FloodControl:
    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._chats: dict[int, _Bucket] = {}
        self._overall = _Bucket(limits.overall_per_second, limits.overall_per_second)

    def check(self, chat_id: int, *, is_group: bool) -> None:
        """Raises the 429 Telegram would send for one more message to `chat_id` now."""
        now = time.monotonic()
        bucket = self._chats.get(chat_id)
        if bucket is None:
            rate = self.limits.per_group_per_minute / 60 if is_group else self.limits.per_chat_per_second
            bucket = self._chats[chat_id] = _Bucket(self.limits.burst, rate)
        wait = bucket.take(now)
        if wait == 0 and (wait := self._overall.take(now)) > 0:
            bucket.tokens += 1  # refused overall: the chat's token was not used
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
