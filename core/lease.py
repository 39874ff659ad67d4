"""Work that one app process does for all (queue sweeps, auto-offers, the Telegram poller): a lease
that one process holds at a time, and runs that work only while it holds it.

On PostgreSQL the lease is a session-level advisory lock on a connection of its own, outside
SQLAlchemy's pool (like core.outbox_listener). Session-level, because the lease lasts as long as the
connection does: when the holder dies, the server closes its connection and frees the lock, and a
waiting process, which tries every second, takes it. The holder reads on its connection every few
seconds and stops the work at once when it fails, and a new holder waits longer than that before it
starts, so the old holder has noticed a loss the server saw first (a network cut) before the new one
begins: the two never run together.

On SQLite one app process serves the database (core.sqlite_owner): the lease is always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

Run = Callable[[], Awaitable[None]]

# Advisory locks take two int4 keys: the first says what is locked (core.advisory_locks uses 1 for
# customers), the second which lease.
SINGLETONS = 2
APP_SINGLETONS = 1
TRY_EVERY_S = 1.0
CHECK_EVERY_S = 2.0
QUERY_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 5.0
THIS_PROCESS = "this process"
# A holder whose machine vanishes sends no goodbye: the server probes its idle connection and frees
# the lock after about 5 + 3 * 2 s of silence instead of the system default (hours).
_KEEPALIVE = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}

_TRY = "SELECT pg_try_advisory_lock($1::int, $2::int)"
_HOLDER = """
SELECT a.application_name, a.client_addr::text
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid::bigint = ($1::int)::bigint & 4294967295
  AND l.objid::bigint = ($2::int)::bigint & 4294967295
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

# What a dropped or refused connection raises; anything else is a bug for the supervisor.
_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class LeaseLost(ConnectionError):
    """The lease's connection closed: the server has freed the lock."""


class Lease(Protocol):
    @property
    def held(self) -> bool:
        """True while this process may run the singleton work."""
        ...

    @property
    def holder(self) -> str:
        """Who holds the lease, as far as this process knows (for /healthz)."""
        ...

    async def keep(self) -> None:
        """A background task: takes the lease when it is free and holds it for as long as it can."""
        ...

    async def while_held(self, work: Run) -> None:
        """Runs `work` whenever this process holds the lease, cancelling it when the lease is lost;
        returns or raises only when the work itself ends."""
        ...


class AlwaysHeld:
    """One app process per database (SQLite): it always holds the lease."""

    held = True
    holder = THIS_PROCESS

    async def keep(self) -> None:
        await asyncio.Event().wait()  # nothing to keep: a supervised task that never ends

    async def while_held(self, work: Run) -> None:
        await work()


class Tenures:
    """This process's holdings of a lease, one after another: work runs during each and is cancelled
    when it ends."""

    def __init__(self) -> None:
        self._current: asyncio.Event | None = None  # while held: set when the holding ends
        self._granted = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._current is not None

    def begin(self) -> None:
        if self._current is None:
            self._current = asyncio.Event()
            self._granted.set()

    def end(self) -> bool:
        """Ends the holding; False if there was none."""
        current, self._current = self._current, None
        self._granted.clear()
        if current is None:
            return False
        current.set()
        return True

    async def while_held(self, work: Run) -> None:
        while True:
            while self._current is None:
                await self._granted.wait()
            working = asyncio.create_task(work())
            ending = asyncio.create_task(self._current.wait())
            try:
                await asyncio.wait({working, ending}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ending.cancel()
                if not working.done():
                    working.cancel()
                    await asyncio.gather(working, return_exceptions=True)
            if not working.cancelled():
                return working.result()  # the work ended on its own (or failed): the caller's concern


class AdvisoryLease:
    """The lease across every app process on one PostgreSQL database."""

    def __init__(
        self,
        url: str,
        *,
        key: int = APP_SINGLETONS,
        identity: str | None = None,
        try_every_s: float = TRY_EVERY_S,
        check_every_s: float = CHECK_EVERY_S,
        query_timeout_s: float = QUERY_TIMEOUT_S,
    ) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._key = key
        # How the connection shows in pg_stat_activity, and so how other processes name the holder.
        self.identity = identity or f"frontline lease {socket.gethostname()} pid {os.getpid()}"
        self._try_every = try_every_s
        self._check_every = check_every_s
        self._query_timeout = query_timeout_s
        self._conn: asyncpg.Connection | None = None
        self._closed = asyncio.Event()  # the connection closed (the server ended it, say)
        self._tenures = Tenures()
        self._seen_holder = "unknown"

    @property
    def held(self) -> bool:
        return self._tenures.held

    @property
    def holder(self) -> str:
        return THIS_PROCESS if self.held else self._seen_holder

    async def keep(self) -> None:
        try:
            while True:
                try:
                    if self._conn is None:
                        await self._connect()
                    if await self._try_take():
                        await self._hold()
                    await asyncio.sleep(self._try_every)
                except _CONNECTION_ERRORS as exc:
                    self._end_tenure()
                    logger.warning("lease connection lost (%s); trying again", type(exc).__name__)
                    await self._close()
                    await asyncio.sleep(self._try_every)
        finally:
            self._end_tenure()
            await self._close()

    async def while_held(self, work: Run) -> None:
        await self._tenures.while_held(work)

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": self.identity, **_KEEPALIVE},
        )
        self._closed.clear()
        conn.add_termination_listener(lambda _conn: self._closed.set())
        self._conn = conn

    async def _try_take(self) -> bool:
        assert self._conn is not None
        if await self._conn.fetchval(_TRY, SINGLETONS, self._key, timeout=self._query_timeout):
            return True
        row = await self._conn.fetchrow(_HOLDER, SINGLETONS, self._key, timeout=self._query_timeout)
        holder = f"{row[0]} ({row[1] or 'local'})" if row else "unknown"
        if holder != self._seen_holder:
            logger.info("lease held by another process: %s; this one waits", holder)
        self._seen_holder = holder
        return False

    async def _hold(self) -> None:
        """Holds until the connection is lost (raises): the work starts once the grace has passed,
        long enough for a previous holder that lost its connection unawares to have stopped."""
        loop = asyncio.get_running_loop()
        starts_at = loop.time() + self._check_every + self._query_timeout
        logger.info("lease taken by %s; its work starts in %.0f s", self.identity, starts_at - loop.time())
        while True:
            until_start = self._check_every if self.held else starts_at - loop.time()
            with contextlib.suppress(TimeoutError):  # woken at once by a closing connection
                await asyncio.wait_for(self._closed.wait(), max(0.0, min(self._check_every, until_start)))
            if self._conn is None or self._conn.is_closed() or self._closed.is_set():
                raise LeaseLost
            await self._conn.fetchval("SELECT 1", timeout=self._query_timeout)
            if not self.held and loop.time() >= starts_at:
                self._begin_tenure()

    def _begin_tenure(self) -> None:
        self._tenures.begin()
        logger.info("lease held by this process (%s): singleton work starts", self.identity)

    def _end_tenure(self) -> None:
        if self._tenures.end():
            self._seen_holder = "unknown"
            logger.warning("lease lost by this process (%s): singleton work stopped", self.identity)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), self._query_timeout)
        except Exception:  # a broken connection: drop it without the polite goodbye
            conn.terminate()
