"""stream tickets and rate-limit events: state several app processes share instead of each its own

`stream_tickets`: a console's single-use ticket for its live stream (handoff/stream_tickets.py), so
a ticket issued by one app process opens the stream on another; only digests are stored.
`rate_limit_events`: failed log-ins and new web conversations counted per login or address
(core/ratelimit.py), so spreading tries over the processes gains nothing (used on PostgreSQL).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_hash"),
    )
    op.create_index("ix_stream_tickets_expires_at", "stream_tickets", ["expires_at"])
    op.create_table(
        "rate_limit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_limit_events_key", "rate_limit_events", ["scope", "key", "at"])
    op.create_index("ix_rate_limit_events_at", "rate_limit_events", ["scope", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_events_at", table_name="rate_limit_events")
    op.drop_index("ix_rate_limit_events_key", table_name="rate_limit_events")
    op.drop_table("rate_limit_events")
    op.drop_index("ix_stream_tickets_expires_at", table_name="stream_tickets")
    op.drop_table("stream_tickets")
