"""What the channel may log about updates and errors: ids and kinds, never what a customer sent."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramNetworkError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

# Errors whose text is Telegram's description or a driver's message: no update inside (the
# engine hides statement parameters). Any other error's text may quote an update.
_TEXT_IS_SAFE = (TelegramAPIError, TelegramNetworkError, SQLAlchemyError, OSError, TimeoutError)


class RedactedError(Exception):
    """Stands in for an error in a logged traceback: its frames, not its message."""


def kind_of(update: dict[str, Any]) -> str:
    """The update's type: its one field besides update_id ("message", "callback_query", ...)."""
    return next((key for key in update if key != "update_id"), "unknown")


def describe(updates: list[dict[str, Any]]) -> str:
    return ", ".join(f"{u.get('update_id')}:{kind_of(u)}" for u in updates) or "none"


def summary(error: BaseException) -> str:
    """The error's type and, where it cannot carry an update, its message."""
    name = type(error).__name__
    if isinstance(error, ClientDecodeError):
        # Its text ends with the whole response, i.e. every update of the batch.
        return f"{name}: {error.message} ({type(error.original).__name__})"
    if isinstance(error, ValidationError):
        places = sorted({".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in error.errors()})
        return f"{name}: {', '.join(places)}"
    if isinstance(error, _TEXT_IS_SAFE):
        return f"{name}: {error}"
    return name


def log_failure(log: logging.Logger, message: str, *args: object, error: BaseException) -> None:
    """`message`, the error's summary and its traceback; the error's own text is left out."""
    stand_in = RedactedError(summary(error))
    log.error(
        f"{message}: %s", *args, summary(error), exc_info=(RedactedError, stand_in, error.__traceback__)
    )
