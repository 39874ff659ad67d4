"""Async engine and session factory; SQLite gets WAL so the app and the action server can share it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_

from core.settings import DbSettings

_FRESH = "frontline_fresh"


def create_engine(settings: DbSettings) -> AsyncEngine:
    """An engine for the configured URL; creates the SQLite file's folder when needed."""
    url = make_url(settings.url)
    # hide_parameters: a failed statement's error (logged, or shown in a 500) would otherwise carry
    # its values, i.e. customers' names, phones and addresses.
    kwargs: dict[str, Any] = {"echo": settings.echo, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 15}
    else:
        kwargs["pool_size"] = settings.pool_size
        kwargs["max_overflow"] = settings.max_overflow
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine.pool, "connect", _mark_fresh)
        event.listen(engine.sync_engine.pool, "checkout", _ping_on_checkout)
    return engine


def _mark_fresh(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
    record.info[_FRESH] = True  # just opened: its first checkout needs no ping


def _ping_on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
    """A restarted database leaves dead connections in the pool: each is tested before use. A dead
    one is replaced, and every connection the pool held before it is dropped (a restart killed them
    all), as `pool_pre_ping` does.

    Instead of `pool_pre_ping`, whose asyncpg ping wraps its statement in BEGIN and ROLLBACK (made
    for PgBouncer's transaction mode, which this project does not use): one round trip, not three,
    and a turn checks out a connection four times on PostgreSQL."""
    if record.info.pop(_FRESH, False):
        return
    try:
        await_(dbapi_conn.driver_connection.execute("SELECT 1"))
    except Exception as exc:  # any failure: the connection is not fit for use
        raise InvalidatePoolError(f"connection failed its ping: {type(exc).__name__}") from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
