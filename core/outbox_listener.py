"""Live events across app processes on PostgreSQL: one listening connection per process hears
that outbox rows committed and publishes them on the process's bus, in id order, each once.

The outbox's trigger (migration 0009) notifies the `outbox` channel with the newest id an insert
wrote; PostgreSQL delivers that only when the transaction commits. The notification is only a
wake-up: the listener reads every row after the last one it published, in id order, so events
merged into one notification or committed while its connection was down (a database restart)
are read all the same, and since ids follow commit order none is skipped. Its own process's
events come this way too: the bus is `fed_by_listener`, so the committing session does not
publish them as well.

Events with no outbox row (presence, log-out) come as notifications of their own channel, with
their kind and data (core.live_notices): published as heard, with no id and no catch-up."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from core import live_notices
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from core.models import OutboxEvent

logger = logging.getLogger(__name__)

CHANNEL = "outbox"  # what migration 0009's trigger notifies
BATCH = 200
# With nothing heard for this long, a read tests the connection (a peer can vanish silently).
IDLE_CHECK_S = 10.0
QUERY_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 10.0
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "frontline outbox listener"

_TABLE = OutboxEvent.__tablename__
_NEWEST = f"SELECT coalesce(max(id), 0) FROM {_TABLE}"
_AFTER = f"SELECT id, kind, payload FROM {_TABLE} WHERE id > $1 ORDER BY id LIMIT $2"

# What a dropped or refused connection raises; anything else is a bug for the supervisor.
_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ListenerConnectionLost(ConnectionError):
    """The listening connection closed: reconnect and catch up from the table."""


class OutboxListener:
    """Publishes on `bus` every event any app process commits to the outbox of database `url`."""

    def __init__(self, url: str, bus: EventBus) -> None:
        if not bus.fed_by_listener:
            raise ValueError("the bus must be fed_by_listener, or its process hears its own events twice")
        # Outside SQLAlchemy's pool: a LISTEN belongs to one connection, held for the process's life.
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._bus = bus
        self._conn: asyncpg.Connection | None = None
        self._last_id: int | None = None  # the newest id published; None before the first connection
        self._notified = 0  # the newest id notified
        self._wake = asyncio.Event()  # a notification, or the connection closed

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """The first connection: events committed before it are not news to this process."""
        await self._connect()

    async def run(self) -> None:
        """A background task: relays until cancelled, reconnecting with backoff when the
        connection drops and catching up on what committed meanwhile."""
        delay = RECONNECT_MIN_S
        try:
            while True:
                try:
                    if self._conn is None:
                        await self._connect()
                    await self._publish_new()  # what committed while nobody listened
                    delay = RECONNECT_MIN_S
                    await self._relay()
                except _CONNECTION_ERRORS as exc:
                    logger.warning(
                        "outbox listener connection lost (%s); reconnecting in %.1f s",
                        type(exc).__name__,
                        delay,
                    )
                await self._close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
        finally:
            await self._close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self._dsn, timeout=CONNECT_TIMEOUT_S, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            conn.add_termination_listener(lambda _conn: self._wake.set())
            await conn.add_listener(CHANNEL, self._heard)
            await conn.add_listener(live_notices.CHANNEL, self._heard_notice)
            if self._last_id is None:  # listening already, so nothing after this id is missed
                self._last_id = int(await conn.fetchval(_NEWEST, timeout=QUERY_TIMEOUT_S))
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        logger.info("outbox listener connected after_id=%d", self._last_id)

    async def _relay(self) -> None:
        while True:
            notified = await self._woken()
            if self._conn is None or self._conn.is_closed():
                raise ListenerConnectionLost
            if not notified or self._notified > (self._last_id or 0):
                await self._publish_new()

    async def _woken(self) -> bool:
        """Waits for a notification or a closed connection (True), or idles out (False)."""
        try:
            await asyncio.wait_for(self._wake.wait(), IDLE_CHECK_S)
        except TimeoutError:
            return False
        self._wake.clear()  # before reading: what is notified during the read wakes us again
        return True

    async def _publish_new(self) -> None:
        assert self._conn is not None and self._last_id is not None
        while True:
            rows = await self._conn.fetch(_AFTER, self._last_id, BATCH, timeout=QUERY_TIMEOUT_S)
            for row in rows:
                self._last_id = row["id"]
                event = _stored_event(row)
                if event is not None:
                    self._bus.publish(event)
            if len(rows) < BATCH:
                return
            await asyncio.sleep(0)  # a long catch-up lets subscribers take their share between batches

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        # Any other payload is not ours to trust: read as if everything were new.
        newest = int(payload) if payload.isascii() and payload.isdigit() else 2**63
        self._notified = max(self._notified, newest)
        self._wake.set()

    def _heard_notice(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        notice = live_notices.heard(payload)
        if notice is not None:
            self._bus.publish(notice)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), QUERY_TIMEOUT_S)
        except Exception:  # a broken connection: drop it without the polite goodbye
            conn.terminate()


def _stored_event(row: Any) -> LiveEvent | None:
    try:
        kind = LiveEventKind(row["kind"])
    except ValueError:  # written by a newer process during an upgrade: not for this one's consoles
        logger.warning("outbox event of unknown kind skipped id=%d kind=%s", row["id"], row["kind"])
        return None
    return LiveEvent(kind, json.loads(row["payload"]), row["id"])
