"""operator console language: the language each operator's console is shown in, chosen in the console

Existing operators keep the English console they had; the server default fills their rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(
            sa.Column("console_language", sa.String(length=8), nullable=False, server_default="en")
        )


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("console_language")
