"""Validation of `reply_markup`: inline keyboards, reply keyboards, keyboard removal, force reply.

Telegram rejects a keyboard it cannot parse instead of dropping the bad part, so the fake does too:
a button without an action, `callback_data` over 64 bytes, or markup that is not JSON.
"""

from __future__ import annotations

from typing import Any

from testing.telegram.fake.errors import (
    BUTTON_DATA_INVALID,
    MARKUP_UNPARSABLE,
    TEXT_BUTTON_IN_INLINE,
    bad_request,
)

MAX_CALLBACK_DATA_BYTES = 64
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_REPLY_REQUESTS = (
    "request_contact",
    "request_location",
    "request_poll",
    "request_users",
    "request_chat",
    "web_app",
)


def validate(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """The markup if Telegram would accept it; raises ApiError otherwise."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(MARKUP_UNPARSABLE)
    if "inline_keyboard" in markup:
        _validate_inline(markup["inline_keyboard"])
    elif inline_only:
        raise bad_request(MARKUP_UNPARSABLE)
    elif "keyboard" in markup:
        _validate_reply(markup["keyboard"])
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise bad_request(MARKUP_UNPARSABLE)
    return markup


def callback_datas(markup: dict[str, Any] | None) -> set[str]:
    """Every `callback_data` on an inline keyboard: what a customer can press."""
    if not markup or "inline_keyboard" not in markup:
        return set()
    return {
        button["callback_data"]
        for row in markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    }


def _rows(rows: Any, field: str, markup_type: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the {markup_type} must be an Array of Arrays')
    return rows


def _validate_inline(rows: Any) -> None:
    for row in _rows(rows, "inline_keyboard", "InlineKeyboardMarkup"):
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            actions = [name for name in _INLINE_ACTIONS if name in button]
            if not actions:
                raise bad_request(TEXT_BUTTON_IN_INLINE)
            if "callback_data" in button:
                _validate_callback_data(button["callback_data"])
            if "url" in button and not str(button["url"]).strip():
                raise bad_request("BUTTON_URL_INVALID")


def _validate_callback_data(data: Any) -> None:
    if not isinstance(data, str) or not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
        raise bad_request(BUTTON_DATA_INVALID)


def _validate_reply(rows: Any) -> None:
    for row in _rows(rows, "keyboard", "ReplyKeyboardMarkup"):
        for button in row:
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
            for request in ("request_contact", "request_location"):
                if request in button and not isinstance(button[request], bool):
                    raise bad_request(
                        f'can\'t parse keyboard button: Field "{request}" must be of type Boolean'
                    )
            if sum(1 for name in _REPLY_REQUESTS if button.get(name)) > 1:
                raise bad_request("can't parse keyboard button: a button can request only one thing")
