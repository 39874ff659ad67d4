"""Short-lived, single-use tickets that open an operator's live event stream.

A browser's EventSource cannot send an Authorization header, so the stream's URL must carry its
credential; putting the log-in token there would write it into every access log on the way. The
console trades its token (in a header) for a ticket that works once, for a minute, instead.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

TICKET_TTL_S = 60.0


@dataclass(frozen=True)
class Holder:
    operator_id: int
    token: str  # the log-in token behind the ticket: the stream ends when it stops working


@dataclass
class StreamTickets:
    ttl_s: float = TICKET_TTL_S
    _issued: dict[str, tuple[Holder, float]] = field(default_factory=dict)

    def issue(self, operator_id: int, token: str) -> str:
        self._forget_expired()
        ticket = secrets.token_urlsafe(24)
        self._issued[ticket] = (Holder(operator_id, token), time.monotonic() + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> Holder | None:
        """The holder of a valid ticket, once; None for an unknown, used or expired one."""
        found = self._issued.pop(ticket, None)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for ticket in [t for t, (_, expires) in self._issued.items() if expires < now]:
            del self._issued[ticket]
