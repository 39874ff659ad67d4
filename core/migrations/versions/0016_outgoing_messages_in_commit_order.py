"""outgoing messages: on PostgreSQL, ids follow commit order, as the outbox's do (0007)

Channels deliver what was written to a customer by id: Telegram keeps a cursor per chat (the last
message sent) and the web chat asks for the messages after the last one it showed. A sequence's ids
are drawn at insert, so an operator's reply inserted first and committed a moment after a system
notice to the same customer could fall behind a cursor that had already passed the notice, and
never be sent. As for the outbox, a trigger draws an outgoing message's id again under a
transaction-scoped advisory lock held until commit. It is the outbox trigger's lock: a transaction
that writes a message and its live event takes one lock, so the two cannot wait for each other in
opposite orders. The session row's key-share lock, which the insert's foreign key check takes
anyway, is taken first: a lifecycle change holds that row for update and then writes its own notice,
so taking the ordering lock first would let the two wait for each other. Messages from customers
are not delivered by id and take no lock. SQLite has one writer at a time, so its ids follow commit
order anyway.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The outbox trigger's key (migration 0007): one lock for both.
_LOCK_KEY = 122550254464888

_ORDER_FUNCTION = f"""
CREATE FUNCTION outgoing_message_id_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.direction = 'out' THEN
        PERFORM 1 FROM sessions WHERE id = NEW.session_id FOR KEY SHARE;
        PERFORM pg_advisory_xact_lock({_LOCK_KEY});
        NEW.id := nextval(pg_get_serial_sequence('messages', 'id'));
    END IF;
    RETURN NEW;
END
$$
"""
_ORDER_TRIGGER = (
    "CREATE TRIGGER outgoing_message_id_in_commit_order BEFORE INSERT ON messages "
    "FOR EACH ROW EXECUTE FUNCTION outgoing_message_id_in_commit_order()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ORDER_FUNCTION)
        op.execute(_ORDER_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outgoing_message_id_in_commit_order ON messages")
        op.execute("DROP FUNCTION outgoing_message_id_in_commit_order()")
