"""Every table of the front line in one metadata: the core's and each channel's (for Alembic)."""

from __future__ import annotations

from sqlalchemy import MetaData

# Imported for their tables, which they declare on the shared Base.
import app.chat_credentials  # noqa: F401  (web chat tokens)
import bot.telegram.models  # noqa: F401  (Telegram inbox, chats, button payloads)
import core.ratelimit  # noqa: F401  (rate-limit events shared by app processes)
import handoff.operator_status  # (operators' status changes)
import handoff.presence  # (open console streams)
import handoff.stream_tickets
import handoff.supervision  # noqa: F401  (operators' asks for a supervisor)
from core.models import Base

metadata: MetaData = Base.metadata
