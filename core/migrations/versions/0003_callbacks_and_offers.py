"""callback tasks and offers to operators on handoff tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        # "session": a live conversation waiting for a person; "callback": a task to call the customer.
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="session"))
        batch.add_column(sa.Column("callback_phone", sa.String(32), nullable=True))
        batch.add_column(sa.Column("callback_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("offered_to", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_handoff_tickets_offered_to", "operators", ["offered_to"], ["id"])
        batch.create_index("ix_handoff_tickets_kind_status", ["kind", "status"])


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.drop_index("ix_handoff_tickets_kind_status")
        batch.drop_constraint("fk_handoff_tickets_offered_to", type_="foreignkey")
        for column in ("offered_at", "offered_to", "callback_after", "callback_phone", "kind"):
            batch.drop_column(column)
