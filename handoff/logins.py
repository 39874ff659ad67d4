"""Operator log-ins: bearer tokens issued for a password, checked on every request, revoked at log-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import live_notices
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from core.models import Operator, OperatorToken, utcnow
from handoff.passwords import check_password, new_token, token_digest

LOGGED_OUT = LiveEventKind.LOGGED_OUT  # a live event for the log-in's own streams only, on any process

# A remembered token is re-checked against the database this often (expiry, deleted operators).
TOKEN_CACHE_TTL = timedelta(seconds=30)
TOKEN_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class LoggedIn:
    token: str
    expires_at: datetime
    operator: Operator


class Logins:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        token_ttl: timedelta = timedelta(hours=12),
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._token_ttl = token_ttl
        self._tokens: dict[str, tuple[Operator, datetime]] = {}

    async def log_in(self, login: str, password: str) -> LoggedIn | None:
        """A fresh bearer token for valid credentials; None otherwise (no hint which part was wrong)."""
        async with self._sessions() as db:
            operator = await db.scalar(select(Operator).where(Operator.login == login))
        if not await check_password(password, operator.password_hash if operator else None):
            return None
        assert operator is not None
        async with self._sessions() as db, db.begin():
            token = new_token()
            expires_at = utcnow() + self._token_ttl
            db.add(
                OperatorToken(token_hash=token_digest(token), operator_id=operator.id, expires_at=expires_at)
            )
            return LoggedIn(token, expires_at, operator)

    async def operator_for_token(self, token: str) -> Operator | None:
        """Every operator request asks this: a valid token is remembered for a few seconds so the
        hot paths (claim, reply) skip a database round trip. Log-out forgets it at once."""
        return await self.operator_for_digest(token_digest(token))

    async def operator_for_digest(self, digest: str) -> Operator | None:
        """As `operator_for_token`, for a log-in known by its digest (a live stream's)."""
        cached = self._tokens.get(digest)
        now = utcnow()
        if cached is not None and cached[1] > now:
            return cached[0]
        found = await self._operator_for_digest(digest)
        if found is None:
            return None
        operator, expires_at = found
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()
        self._tokens[digest] = (operator, min(now + TOKEN_CACHE_TTL, expires_at))
        return operator

    async def log_out(self, token: str) -> None:
        digest = token_digest(token)
        self._tokens.pop(digest, None)
        async with self._sessions() as db, db.begin():
            await db.execute(delete(OperatorToken).where(OperatorToken.token_hash == digest))
            # Live streams opened with this log-in end at once (they also re-check it periodically),
            # on whichever app process they are. Not stored: a replay has no use for it, since that
            # log-in cannot reconnect.
            await live_notices.send(db, self._bus, LiveEvent(LOGGED_OUT, {"token_hash": digest}))

    async def _operator_for_digest(self, digest: str) -> tuple[Operator, datetime] | None:
        async with self._sessions() as db:
            row = await db.execute(
                select(Operator, OperatorToken.expires_at)
                .join(OperatorToken, OperatorToken.operator_id == Operator.id)
                .where(OperatorToken.token_hash == digest)
            )
            found = row.first()
        if found is None or found[1] < utcnow():
            return None
        return found[0], found[1]
