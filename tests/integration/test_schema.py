"""The migrations and the tables the code declares (core's and each channel's) describe one schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from app.schema import metadata
from core.migrate import alembic_config, upgrade


def test_migrated_database_matches_every_declared_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"
    upgrade(url)
    command.check(alembic_config(url))  # raises when autogenerate would write a migration


def test_channel_tables_share_the_one_metadata() -> None:
    assert {"telegram_updates", "telegram_chats", "telegram_button_payloads"} <= set(metadata.tables)
    assert {"sessions", "handoff_tickets", "web_chat_credentials"} <= set(metadata.tables)
