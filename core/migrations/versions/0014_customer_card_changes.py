"""customer card edits: address and note on customers, and the history of operators' changes

Operators correct a customer's name, phone, address and note (handoff/card_edits.py); each changed
field is a `customer_card_changes` row with the operator, the moment and the old and new values.
The rows are personal data: a customer's export holds them and their erasure deletes them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "customer_card_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_card_changes_customer_id", "customer_card_changes", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_card_changes_customer_id", table_name="customer_card_changes")
    op.drop_table("customer_card_changes")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("note")
        batch.drop_column("address")
