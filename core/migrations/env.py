"""Alembic environment: runs migrations through the project's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.schema import metadata
from core.db import create_engine
from core.settings import DbSettings

config = context.config
# One history for the whole front line's schema (core and channel tables alike), so the table list
# comes from the composition root, which knows which packages own tables.
target_metadata = metadata
# App processes started together on one PostgreSQL database each migrate it at start: one at a time,
# the next reading the version the first committed (namespace 3 of the project's advisory locks).
_ONE_MIGRATION_AT_A_TIME = text("SELECT pg_advisory_xact_lock(3, 1)")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(_ONE_MIGRATION_AT_A_TIME)
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(DbSettings(url=config.get_main_option("sqlalchemy.url") or ""))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
