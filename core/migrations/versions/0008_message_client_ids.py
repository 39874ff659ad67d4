"""messages: the client's own message id in an indexed column

A retried turn (a widget that lost our response, a Telegram update handled again after a crash)
was looked for by reading the session's latest 50 messages and their JSON payloads on every turn
that carried an id. The id now has a column of its own, filled from the payload for stored turns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FROM_PAYLOAD = {
    "sqlite": "json_extract(payload, '$.client_message_id')",
    "postgresql": "CAST(payload AS jsonb) ->> 'client_message_id'",
}


def upgrade() -> None:
    op.add_column("messages", sa.Column("client_message_id", sa.String(length=80), nullable=True))
    op.create_index(op.f("ix_messages_client_message_id"), "messages", ["client_message_id"])
    extract = _FROM_PAYLOAD.get(op.get_bind().dialect.name)
    if extract is not None:
        op.execute(
            f"UPDATE messages SET client_message_id = substr({extract}, 1, 80) "
            "WHERE direction = 'in' AND payload IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_client_message_id"), table_name="messages")
    op.drop_column("messages", "client_message_id")
