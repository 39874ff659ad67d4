"""Custom Rasa actions (rasa-sdk): orders, look-ups, handoff. Imported by the action server."""

import sys

from actions import fallback, handoff, order_status, orders, session, tariffs  # noqa: F401
from core.logging import protect_log_lines

# The action server (python -m rasa_sdk) has set up its logging by the time it imports the actions:
# mask its log lines. Other importers (tests, tools) keep their own logging as it is.
_main = getattr(sys.modules.get("__main__"), "__spec__", None)
if _main is not None and _main.name.startswith("rasa_sdk"):
    protect_log_lines()
