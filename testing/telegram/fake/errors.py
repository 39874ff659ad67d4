"""Errors the fake answers with, worded the way the Bot API words them.

The descriptions are the ones Telegram sends; the channel code (and people reading its logs)
match on them, so a made-up wording here would hide real bugs.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
BLOCKED = "Forbidden: bot was blocked by the user"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CHAT_NOT_FOUND = "chat not found"
TEXT_EMPTY = "message text is empty"
TEXT_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
MARKUP_UNPARSABLE = "can't parse reply keyboard markup JSON object"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
TEXT_BUTTON_IN_INLINE = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
THREAD_NOT_FOUND = "message thread not found"
NOT_A_FORUM = "the chat is not a forum"
TOPIC_ID_INVALID = "TOPIC_ID_INVALID"
EDIT_NOT_FOUND = "message to edit not found"
CANT_EDIT = "message can't be edited"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
DELETE_NOT_FOUND = "message to delete not found"
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "invalid file_id"
EMPTY_FILE = "file must be non-empty"
UNSUPPORTED_PARSE_MODE = "unsupported parse_mode"
WRONG_ACTION = "wrong parameter action in request"
COMMAND_INVALID = "BOT_COMMAND_INVALID"
COMMAND_DESCRIPTION_INVALID = "BOT_COMMAND_DESCRIPTION_INVALID"
