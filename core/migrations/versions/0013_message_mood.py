"""message mood: each customer message keeps the mood (calm / negative / angry) read when it was stored

The queue, the context card, the priority of an angry customer's wait and the mood figures read it
(core/mood.py); rows stored before keep no mood (NULL), as do the front line's own messages.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("mood", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("mood")
