"""Custom Rasa actions (rasa-sdk): orders, look-ups, handoff. Imported by the action server."""

from actions import fallback, handoff, order_status, orders, session, tariffs  # noqa: F401
from core.logging import protect_log_lines

# The action server has set up its logging by the time it imports the actions: mask its log lines.
protect_log_lines()
