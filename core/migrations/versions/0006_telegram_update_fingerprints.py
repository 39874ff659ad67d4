"""telegram inbox: rows in arrival order, an update known by its id and its own identity

After a week without updates Telegram picks the next update_id at random, so an id may come again
for a new message: update_id is no longer the key. A redelivery is recognised by (update_id,
fingerprint), the fingerprint being the chat, message id and date, or the callback query id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 04:00:00
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("update_id", "chat_id", "payload", "status", "received_at", "handled_at")


def upgrade() -> None:
    new = op.create_table(
        "telegram_updates_new",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(120), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="received"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("update_id", "fingerprint", name="uq_telegram_updates_update"),
    )
    assert new is not None
    old = _old_table()
    rows = op.get_bind().execute(sa.select(old).order_by(old.c.update_id)).mappings().all()
    if rows:
        op.bulk_insert(new, [{**row, "fingerprint": _fingerprint(row["payload"])} for row in rows])
    op.drop_index("ix_telegram_updates_status", table_name="telegram_updates")
    op.drop_table("telegram_updates")
    op.rename_table("telegram_updates_new", "telegram_updates")
    op.create_index("ix_telegram_updates_status", "telegram_updates", ["status", "id"])


def downgrade() -> None:
    # Of updates that share an id, the first one stored is kept.
    op.create_table(
        "telegram_updates_old",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="received"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
    )
    columns = ", ".join(_COLUMNS)
    op.execute(
        f"INSERT INTO telegram_updates_old ({columns}) SELECT {columns} FROM telegram_updates "
        "WHERE id IN (SELECT MIN(id) FROM telegram_updates GROUP BY update_id)"
    )
    op.drop_index("ix_telegram_updates_status", table_name="telegram_updates")
    op.drop_table("telegram_updates")
    op.rename_table("telegram_updates_old", "telegram_updates")
    op.create_index("ix_telegram_updates_status", "telegram_updates", ["status", "update_id"])


def _old_table() -> sa.Table:
    types: dict[str, Any] = {
        "update_id": sa.BigInteger(),
        "chat_id": sa.BigInteger(),
        "payload": sa.JSON(),
        "status": sa.String(16),
        "received_at": sa.DateTime(timezone=True),
        "handled_at": sa.DateTime(timezone=True),
    }
    return sa.table("telegram_updates", *(sa.column(name, types[name]) for name in _COLUMNS))


def _fingerprint(update: dict[str, Any]) -> str:
    """As bot.telegram.store.fingerprint did when this migration was written (frozen here)."""
    kind = next((key for key in update if key != "update_id"), "unknown")
    body = update.get(kind)
    if isinstance(body, dict) and kind in ("message", "edited_message"):
        chat = (body.get("chat") or {}).get("id")
        when = body.get("edit_date") or body.get("date")
        return f"{kind}:{chat}:{body.get('message_id')}:{when}"[:120]
    if isinstance(body, dict) and kind == "callback_query":
        return f"{kind}:{body.get('id')}"[:120]
    content = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return f"{kind[:60]}:{hashlib.sha256(content).hexdigest()[:40]}"
