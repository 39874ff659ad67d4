"""Custom Rasa actions (rasa-sdk): orders, look-ups, handoff. Imported by the action server."""

from actions import fallback, handoff, order_status, orders, session, tariffs  # noqa: F401
