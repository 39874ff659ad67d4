"""How long a place in the queue takes, from recent waits: pure arithmetic, no I/O."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Wait:
    """One ticket's time in the queue: `left_at` is when it was claimed or abandoned (None: waits on)."""

    ticket_id: int
    joined_at: datetime
    claimed_at: datetime | None
    left_at: datetime | None


def seconds_per_place(waits: Sequence[Wait], since: datetime) -> float | None:
    """Mean over the tickets claimed since `since` of (their wait / the place they joined at).

    A whole wait already includes everyone ahead, so it is divided by the place it started from;
    multiplying the mean whole wait by a place would count those ahead twice. None without claims."""
    ordered = sorted(waits, key=lambda w: (w.joined_at, w.ticket_id))
    left = sorted(w.left_at for w in waits if w.left_at is not None)
    rates = [
        (w.claimed_at - w.joined_at).total_seconds() / _place(index, w.joined_at, left)
        for index, w in enumerate(ordered)
        if w.claimed_at is not None and w.claimed_at >= since
    ]
    return sum(rates) / len(rates) if rates else None


def _place(joined_before: int, joined_at: datetime, left: list[datetime]) -> int:
    """1 + those who joined earlier and had not left yet (whoever left had joined earlier)."""
    return 1 + max(0, joined_before - bisect.bisect_right(left, joined_at))
