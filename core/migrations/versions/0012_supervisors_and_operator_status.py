"""supervisors and operator status: operators' roles, whispers, asks for a supervisor, status events

`operators.role` says who may use the supervisor routes; a whisper is a ticket note of kind
"whisper"; `supervisor_asks` holds each operator's call for help until a supervisor answers it
(the open ones are found on `answered_at`); `operator_status_events` holds every change of an
operator's status (available, break, after-call work, offline), the raw material of the time
each operator spends in each status.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="operator"))
    with op.batch_alter_table("ticket_notes") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="note"))
    op.create_table(
        "supervisor_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supervisor_asks_ticket_id", "supervisor_asks", ["ticket_id"])
    op.create_index("ix_supervisor_asks_answered_at", "supervisor_asks", ["answered_at"])
    op.create_index("ix_supervisor_asks_asked_at", "supervisor_asks", ["asked_at"])
    op.create_table(
        "operator_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_status_events_operator_id", "operator_status_events", ["operator_id", "id"])
    op.create_index("ix_operator_status_events_at", "operator_status_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_operator_status_events_at", table_name="operator_status_events")
    op.drop_index("ix_operator_status_events_operator_id", table_name="operator_status_events")
    op.drop_table("operator_status_events")
    op.drop_index("ix_supervisor_asks_asked_at", table_name="supervisor_asks")
    op.drop_index("ix_supervisor_asks_answered_at", table_name="supervisor_asks")
    op.drop_index("ix_supervisor_asks_ticket_id", table_name="supervisor_asks")
    op.drop_table("supervisor_asks")
    with op.batch_alter_table("ticket_notes") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("role")
