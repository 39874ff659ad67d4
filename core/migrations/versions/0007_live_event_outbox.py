"""live event outbox: consoles' events stored with the change they report, replayed by id

On PostgreSQL, ids come from a sequence drawn before commit, so two transactions may commit in
the opposite order of their ids, and a console that saw id N+1 would never be given N. A trigger
draws the id again under a transaction-scoped advisory lock, held until commit: ids follow commit
order. SQLite has one writer at a time, so its ids follow commit order anyway.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# b"outbox" as an integer: the advisory lock key only this trigger takes.
_LOCK_KEY = 122550254464888

_ORDER_FUNCTION = f"""
CREATE FUNCTION outbox_id_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({_LOCK_KEY});
    NEW.id := nextval(pg_get_serial_sequence('outbox', 'id'));
    RETURN NEW;
END
$$
"""
_ORDER_TRIGGER = (
    "CREATE TRIGGER outbox_id_in_commit_order BEFORE INSERT ON outbox "
    "FOR EACH ROW EXECUTE FUNCTION outbox_id_in_commit_order()"
)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ORDER_FUNCTION)
        op.execute(_ORDER_TRIGGER)


def downgrade() -> None:
    op.drop_table("outbox")  # its trigger goes with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION outbox_id_in_commit_order()")
