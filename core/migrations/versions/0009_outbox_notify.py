"""outbox: on PostgreSQL, every insert notifies the app processes of its newest id

Each app process listens on the `outbox` channel (core/outbox_listener.py) and reads the rows
after the last one it published. The notification is sent by the database in the inserting
transaction, so PostgreSQL delivers it only if that transaction commits, in commit order, and no
code path can store an event without it. Only the id travels: a NOTIFY payload is limited to
8,000 bytes and is not kept. One notification per statement is enough, since the reader takes
every id after its last. SQLite keeps the in-process bus and needs nothing here.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NOTIFY_FUNCTION = """
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    newest integer := (SELECT max(id) FROM inserted);
BEGIN
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('outbox', newest::text);
    END IF;
    RETURN NULL;
END
$$
"""
_NOTIFY_TRIGGER = (
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted "
    "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_notify ON outbox")
        op.execute("DROP FUNCTION outbox_notify()")
