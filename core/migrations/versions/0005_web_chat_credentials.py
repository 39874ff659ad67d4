"""web chat: the token that opens a customer's conversation (its SHA-256)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_chat_credentials",
        sa.Column("customer_key", sa.String(160), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("first_message_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_chat_credentials")
