"""Logging set-up shared by every process, with personal data kept out of log lines."""

from __future__ import annotations

import logging

from core.masking import mask_text

# Loggers that web servers configure with their own handlers (so root handlers never see them):
# access lines carry URLs with customer ids.
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "sanic.access", "sanic.root", "sanic.error")


class PersonalDataFilter(logging.Filter):
    """Masks phone and card numbers and e-mail addresses in a record's message before any handler
    writes it (the arguments are merged into the message first, since they are what holds them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep the record as it is
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Plain, greppable log lines on stderr, masked."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    protect_log_lines()


def protect_log_lines() -> None:
    """Put the masking filter on every root handler and on the web servers' own loggers (idempotent).

    Called by each process once its logging is set up (the app; the action server when it imports
    the actions).
    """
    targets: list[logging.Filterer] = [*logging.getLogger().handlers]
    targets += [logging.getLogger(name) for name in SERVER_LOGGERS]
    for target in targets:
        if not any(isinstance(f, PersonalDataFilter) for f in target.filters):
            target.addFilter(PersonalDataFilter())
