"""Short-lived, single-use tickets that open an operator's live event stream, on any app process.

A browser's EventSource cannot send an Authorization header, so the stream's URL must carry its
credential; putting the log-in token there would write it into every access log on the way. The
console trades its token (in a header) for a ticket that works once, for a minute, instead.

Tickets are rows of `stream_tickets`, so a ticket issued by one app process opens the stream on
another (a load balancer need not send both requests to one process). Only digests are stored, of
the ticket and of the log-in token, as for the tokens themselves: a copy of the table opens
nothing. Redeeming deletes the row in the statement that reads it, so a ticket works once even
when two processes are asked at the same moment. One table for SQLite and PostgreSQL alike: a
ticket is one small write per console (re)connect.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow
from handoff.passwords import token_digest

TICKET_TTL_S = 60.0


class StreamTicket(Base):
    __tablename__ = "stream_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    # The log-in behind the ticket: the stream ends when it stops working.
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class Holder:
    operator_id: int
    token_hash: str  # digest of the log-in token behind the ticket


class StreamTickets:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float = TICKET_TTL_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.ttl_s = ttl_s
        self._clock = clock

    async def issue(self, operator_id: int, token: str) -> str:
        ticket, now = secrets.token_urlsafe(24), self._clock()
        async with self._sessions() as db, db.begin():
            await db.execute(delete(StreamTicket).where(StreamTicket.expires_at < now))
            db.add(
                StreamTicket(
                    ticket_hash=token_digest(ticket),
                    operator_id=operator_id,
                    token_hash=token_digest(token),
                    expires_at=now + timedelta(seconds=self.ttl_s),
                )
            )
        return ticket

    async def redeem(self, ticket: str) -> Holder | None:
        """The holder of a valid ticket, once; None for an unknown, used or expired one."""
        async with self._sessions() as db, db.begin():
            row = (
                await db.execute(
                    delete(StreamTicket)
                    .where(StreamTicket.ticket_hash == token_digest(ticket))
                    .returning(StreamTicket.operator_id, StreamTicket.token_hash, StreamTicket.expires_at)
                )
            ).first()
        if row is None or row.expires_at < self._clock():
            return None
        return Holder(row.operator_id, row.token_hash)
