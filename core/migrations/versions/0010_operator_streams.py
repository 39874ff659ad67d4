"""operator streams: which consoles are open, on any app process, renewed by a heartbeat

One row per open live stream (handoff/presence.py), so every app process on one database sees the
same operators online. A row whose `seen_at` is older than the time-to-live no longer counts; the
index on `seen_at` serves both that filter and the deletion of such rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_streams",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=120), nullable=False),
        sa.Column("online_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_operator_streams_seen_at", "operator_streams", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_operator_streams_seen_at", table_name="operator_streams")
    op.drop_table("operator_streams")
