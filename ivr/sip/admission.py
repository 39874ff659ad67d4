"""Who may start a call now: a cap on calls at once, and per source address a token bucket for
INVITEs and a quota of answered calls still waiting for their ACK."""

from __future__ import annotations

import os
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# bench/ivr.py: one core carries 16 calls with menu speech and no RTP gap over 40 ms.
CALLS_PER_CORE = 16
MAX_SOURCES = 4096  # buckets remembered at once; a spoofed flood cannot grow memory past this


def default_max_calls(rtp_port_min: int, rtp_port_max: int, cpus: int | None = None) -> int:
    """One even RTP port per call, and what the cores carry: the smaller of the two."""
    ports = len(range(rtp_port_min + rtp_port_min % 2, rtp_port_max + 1, 2))
    return max(1, min(ports, CALLS_PER_CORE * (cpus or os.cpu_count() or 1)))


@dataclass(frozen=True)
class AdmissionLimits:
    max_calls: int
    invite_rate_per_s: float
    invite_burst: int
    max_unacked_per_source: int


class SourceBuckets:
    """A token bucket per source; a bucket idle long enough to be full again is forgotten (it would
    behave like a new one), so the oldest is checked on each take: O(1) amortised, bounded."""

    def __init__(self, rate_per_s: float, burst: int, max_sources: int = MAX_SOURCES) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_sources = max_sources
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # source -> (tokens, at)

    def take(self, source: str, now: float) -> bool:
        tokens, at = self._buckets.pop(source, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)  # now the newest
        self._forget(now)
        return allowed

    def _forget(self, now: float) -> None:
        full_after = self._burst / self._rate
        while self._buckets:
            _, at = next(iter(self._buckets.values()))
            if len(self._buckets) <= self._max_sources and now - at < full_after:
                return
            self._buckets.popitem(last=False)


class Admission:
    """Calls from admission (INVITE accepted) to their end, and the ones still waiting for an ACK.

    Trusted sources (the configured PBXs) carry every caller's INVITEs, so only the cap on calls
    applies to them; any other source also has a rate and a quota of un-ACKed calls, which keeps
    a flood of INVITEs that never ACK from holding more than a few RTP ports for Timer H.
    """

    def __init__(self, limits: AdmissionLimits, trusted: Callable[[str], bool]) -> None:
        self.limits = limits
        self._trusted = trusted
        self._buckets = SourceBuckets(limits.invite_rate_per_s, limits.invite_burst)
        self._sources: dict[str, str] = {}  # call id -> source host
        self._unacked: Counter[str] = Counter()
        self._waiting: set[str] = set()

    def __len__(self) -> int:
        return len(self._sources)

    def refusal(self, source: str, now: float) -> str | None:
        """Why a new call from `source` is refused now, or None (then a token was taken)."""
        if len(self._sources) >= self.limits.max_calls:
            return "calls"
        if self._trusted(source):
            return None
        if self._unacked[source] >= self.limits.max_unacked_per_source:
            return "unacked"
        if not self._buckets.take(source, now):
            return "rate"
        return None

    def start(self, call_id: str, source: str) -> None:
        self._sources[call_id] = source
        self._waiting.add(call_id)
        self._unacked[source] += 1

    def acked(self, call_id: str) -> None:
        if call_id in self._waiting:
            self._waiting.discard(call_id)
            self._drop_unacked(self._sources[call_id])

    def end(self, call_id: str) -> None:
        self.acked(call_id)
        self._sources.pop(call_id, None)

    def _drop_unacked(self, source: str) -> None:
        self._unacked[source] -= 1
        if self._unacked[source] <= 0:
            del self._unacked[source]
