"""Schema migrations (Alembic), run at start-up and by `python -m core.migrate`."""

from __future__ import annotations

import asyncio
import sys

from alembic import command
from alembic.config import Config

from core.settings import PROJECT_ROOT, get_settings

MIGRATIONS_DIR = PROJECT_ROOT / "core" / "migrations"


def alembic_config(db_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def upgrade(db_url: str, revision: str = "head") -> None:
    """Bring the database to the latest schema; blocking, so call it in a thread from async code."""
    command.upgrade(alembic_config(db_url), revision)


async def upgrade_async(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else get_settings().db.url
    upgrade(url)
