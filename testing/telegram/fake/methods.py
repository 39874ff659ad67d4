"""The Bot API methods the fake serves, one coroutine each, keyed by method name.

Each takes the server and the call's parameters and returns the `result` of a successful answer
or raises ApiError. Checks run in Telegram's order where it matters to a caller: the chat first
(unknown chat, then blocked), then the thread, then the content.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from testing.telegram.fake import markup as keyboards
from testing.telegram.fake import text as texts
from testing.telegram.fake.errors import (
    BLOCKED,
    CANT_EDIT,
    COMMAND_DESCRIPTION_INVALID,
    COMMAND_INVALID,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    EMPTY_FILE,
    INVALID_FILE_ID,
    MARKUP_UNPARSABLE,
    NOT_MODIFIED,
    QUERY_INVALID,
    WEBHOOK_CONFLICT,
    WRONG_ACTION,
    WRONG_FILE,
    ApiError,
    bad_request,
)
from testing.telegram.fake.request import Params, Upload
from testing.telegram.fake.updates import MAX_LIMIT
from testing.telegram.fake.world import TOPIC_ICON_COLORS, Chat, StoredFile, StoredMessage

if TYPE_CHECKING:
    from testing.telegram.fake_bot_api import FakeBotApi

Method = Callable[["FakeBotApi", Params, float], Awaitable[Any]]
METHODS: dict[str, tuple[str, Method]] = {}  # lower-case name -> (documented name, handler)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_CALLBACK_ANSWER = 200
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def method(name: str) -> Callable[[Method], Method]:
    def register(handler: Method) -> Method:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def canonical_name(name: str) -> str:
    """Method names are case-insensitive on Telegram's side; records use the documented spelling."""
    entry = METHODS.get(name.lower())
    return entry[0] if entry else name


# --- shared checks -----------------------------------------------------------------------------


def _writable_chat(api: FakeBotApi, params: Params) -> Chat:
    chat = api.world.chat(params.chat_id())
    if chat.blocked:
        raise ApiError(403, BLOCKED)
    return chat


def _thread(chat: Chat, params: Params) -> int | None:
    thread_id = params.integer("message_thread_id")
    if thread_id is None:
        return None
    chat.topic(thread_id)
    return thread_id


def _reply_markup(params: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    raw = params.json_value("reply_markup", unparsable=MARKUP_UNPARSABLE)
    return keyboards.validate(raw, inline_only=inline_only)


def _check_reply_target(api: FakeBotApi, chat: Chat, params: Params) -> None:
    reply = params.json_value("reply_parameters", unparsable="can't parse reply parameters JSON object")
    message_id = params.integer("reply_to_message_id")
    allow_missing = params.boolean("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply"))
    if message_id and not allow_missing and api.world.message(chat.id, int(message_id)) is None:
        raise bad_request("message to be replied not found")


def _check_flood(api: FakeBotApi, chat: Chat) -> None:
    """Last check before a message is stored: a refused message does not count against the limits."""
    if api.flood is not None:
        api.flood.check(chat.id, is_group=chat.type != "private")


def _stored_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only inline keyboards belong to a message; reply keyboards live in the customer's app."""
    return markup if markup and "inline_keyboard" in markup else None


def _sent(
    api: FakeBotApi, name: str, message: StoredMessage, markup: dict[str, Any] | None, at: float
) -> Any:
    api.record_sent(name, message, markup, at)
    return message.as_dict()


# --- identity and updates ----------------------------------------------------------------------


@method("getMe")
async def get_me(api: FakeBotApi, params: Params, at: float) -> Any:
    return api.world.bot_user


@method("getUpdates")
async def get_updates(api: FakeBotApi, params: Params, at: float) -> Any:
    if api.webhook_url:
        raise ApiError(409, WEBHOOK_CONFLICT)
    allowed = params.json_value("allowed_updates", unparsable="can't parse allowed updates JSON object")
    api.updates.set_allowed(allowed)
    limit = min(max(params.integer("limit", default=MAX_LIMIT) or MAX_LIMIT, 1), MAX_LIMIT)
    timeout = max(params.integer("timeout", default=0) or 0, 0)
    return await api.updates.poll(
        offset=params.integer("offset", default=0) or 0, limit=limit, timeout=timeout
    )


@method("setWebhook")
async def set_webhook(api: FakeBotApi, params: Params, at: float) -> Any:
    url = params.string("url") or ""
    if url and not (
        url.startswith("https://") or url.startswith(tuple(f"http://{h}" for h in _LOOPBACK_HOSTS))
    ):
        # Telegram takes HTTPS only; the fake also takes plain HTTP on loopback, where tests run.
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.boolean("drop_pending_updates"):
        api.updates.drop_all()
    api.updates.set_allowed(params.json_value("allowed_updates", unparsable="can't parse allowed updates"))
    api.webhook_url = url or None
    api.webhook_secret = secret if url else None
    if url:
        api.updates.end_poll_for_webhook()
    return True


@method("deleteWebhook")
async def delete_webhook(api: FakeBotApi, params: Params, at: float) -> Any:
    if params.boolean("drop_pending_updates"):
        api.updates.drop_all()
    api.webhook_url = None
    api.webhook_secret = None
    return True


@method("getWebhookInfo")
async def get_webhook_info(api: FakeBotApi, params: Params, at: float) -> Any:
    info: dict[str, Any] = {
        "url": api.webhook_url or "",
        "has_custom_certificate": False,
        "pending_update_count": len(api.updates.pending),
    }
    if api.webhook_last_error is not None:
        info["last_error_date"], info["last_error_message"] = api.webhook_last_error
    if api.updates.allowed_updates is not None:
        info["allowed_updates"] = sorted(api.updates.allowed_updates)
    return info


# --- sending -----------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = _writable_chat(api, params)
    thread_id = _thread(chat, params)
    rendered = texts.message_text(params.string("text"), params.string("parse_mode"))
    markup = _reply_markup(params)
    params.json_value("link_preview_options", unparsable="can't parse link preview options JSON object")
    _check_reply_target(api, chat, params)
    _check_flood(api, chat)
    message = api.world.add_message(
        chat,
        api.world.bot_user,
        text=rendered.text,
        entities=rendered.entities,
        reply_markup=_stored_markup(markup),
        thread_id=thread_id,
    )
    return _sent(api, "sendMessage", message, markup, at)


def _file_param(
    api: FakeBotApi, params: Params, name: str, *, folder: str, extension: str
) -> tuple[StoredFile, Upload | None]:
    value = params.upload_or_id(name)
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request(EMPTY_FILE)
        return api.world.add_file(value.data, folder=folder, extension=extension), value
    if value.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # nothing outside is reachable
    stored = api.world.files.get(value)
    if stored is None:
        raise bad_request(WRONG_FILE)
    return stored, None


async def _send_media(api: FakeBotApi, params: Params, at: float, kind: str) -> Any:
    chat = _writable_chat(api, params)
    thread_id = _thread(chat, params)
    if kind == "photo":
        stored, _ = _file_param(api, params, "photo", folder="photos", extension="jpg")
        media: dict[str, Any] = {"photo": [{**_file_object(stored), "width": 800, "height": 600}]}
    else:
        media = {"document": _document(api, params)}
    rendered = texts.caption(params.string("caption"), params.string("parse_mode"))
    markup = _reply_markup(params)
    _check_flood(api, chat)
    message = api.world.add_message(
        chat,
        api.world.bot_user,
        caption=rendered.text if rendered else None,
        caption_entities=rendered.entities if rendered else [],
        media=media,
        reply_markup=_stored_markup(markup),
        thread_id=thread_id,
    )
    return _sent(api, "sendPhoto" if kind == "photo" else "sendDocument", message, markup, at)


def _document(api: FakeBotApi, params: Params) -> dict[str, Any]:
    upload = params.upload_or_id("document")
    name = upload.filename if isinstance(upload, Upload) else ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
    stored, upload = _file_param(api, params, "document", folder="documents", extension=extension)
    document = _file_object(stored)
    if upload is not None:
        # Like Telegram, trust the file name's extension over the part's generic content type.
        mime = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        document.update(file_name=upload.filename, mime_type=mime)
    return document


def _file_object(stored: StoredFile) -> dict[str, Any]:
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data)}


@method("sendPhoto")
async def send_photo(api: FakeBotApi, params: Params, at: float) -> Any:
    return await _send_media(api, params, at, "photo")


@method("sendDocument")
async def send_document(api: FakeBotApi, params: Params, at: float) -> Any:
    return await _send_media(api, params, at, "document")


@method("sendChatAction")
async def send_chat_action(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = _writable_chat(api, params)
    _thread(chat, params)
    if params.string("action") not in CHAT_ACTIONS:
        raise bad_request(WRONG_ACTION)
    return True


# --- editing and deleting ----------------------------------------------------------------------


def _own_message(api: FakeBotApi, params: Params) -> StoredMessage:
    if params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not part of this bot
    chat = _writable_chat(api, params)
    message_id = params.integer("message_id", missing="message identifier is not specified")
    message = api.world.message(chat.id, message_id or 0)
    if message is None:
        raise bad_request(EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request(CANT_EDIT)
    return message


@method("editMessageText")
async def edit_message_text(api: FakeBotApi, params: Params, at: float) -> Any:
    message = _own_message(api, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    rendered = texts.message_text(params.string("text"), params.string("parse_mode"))
    markup = _reply_markup(params, inline_only=True)  # leaving it out removes the keyboard
    if (rendered.text, rendered.entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = rendered.text, rendered.entities, markup
    message.edit_date = int(time.time())
    return _sent(api, "editMessageText", message, markup, at)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(api: FakeBotApi, params: Params, at: float) -> Any:
    message = _own_message(api, params)
    markup = _reply_markup(params, inline_only=True)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    message.edit_date = int(time.time())
    return _sent(api, "editMessageReplyMarkup", message, markup, at)


@method("deleteMessage")
async def delete_message(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = api.world.chat(params.chat_id())
    message_id = params.integer("message_id", missing="message identifier is not specified")
    message = api.world.message(chat.id, message_id or 0)
    if message is None:
        raise bad_request(DELETE_NOT_FOUND)
    if not message.from_bot and chat.type != "private":
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True


# --- callback queries, commands, files ---------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(api: FakeBotApi, params: Params, at: float) -> Any:
    query_id = params.string("callback_query_id", missing=QUERY_INVALID)
    if query_id not in api.callback_queries or query_id in api.answered_callbacks:
        raise bad_request(QUERY_INVALID)
    ttl = api.callback_query_ttl
    if ttl is not None and at - api.callback_pushed_at[str(query_id)] > ttl:
        raise bad_request(QUERY_INVALID)
    if len(params.string("text") or "") > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    api.answered_callbacks[str(query_id)] = dict(params.raw)
    return True


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.json_value("scope", unparsable="can't parse BotCommandScope JSON object") or {
        "type": "default"
    }
    return (
        scope.get("type", "default") if isinstance(scope, dict) else "default",
        params.string("language_code") or "",
    )


@method("setMyCommands")
async def set_my_commands(api: FakeBotApi, params: Params, at: float) -> Any:
    commands = params.json_value("commands", unparsable="can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request(COMMAND_INVALID)
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request(COMMAND_DESCRIPTION_INVALID)
    api.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(api: FakeBotApi, params: Params, at: float) -> Any:
    return api.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(api: FakeBotApi, params: Params, at: float) -> Any:
    api.commands.pop(_commands_key(params), None)
    return True


def _bot_texts_key(params: Params, field: str) -> tuple[str, str]:
    return (field, params.string("language_code") or "")


async def _set_bot_text(api: FakeBotApi, params: Params, field: str, limit: int) -> bool:
    value = params.string(field) or ""
    if len(value) > limit:
        raise bad_request(f"{field.upper()}_INVALID")
    api.bot_texts[_bot_texts_key(params, field)] = value
    return True


@method("setMyDescription")
async def set_my_description(api: FakeBotApi, params: Params, at: float) -> Any:
    return await _set_bot_text(api, params, "description", 512)


@method("getMyDescription")
async def get_my_description(api: FakeBotApi, params: Params, at: float) -> Any:
    return {"description": api.bot_texts.get(_bot_texts_key(params, "description"), "")}


@method("setMyShortDescription")
async def set_my_short_description(api: FakeBotApi, params: Params, at: float) -> Any:
    return await _set_bot_text(api, params, "short_description", 120)


@method("getMyShortDescription")
async def get_my_short_description(api: FakeBotApi, params: Params, at: float) -> Any:
    return {"short_description": api.bot_texts.get(_bot_texts_key(params, "short_description"), "")}


@method("getFile")
async def get_file(api: FakeBotApi, params: Params, at: float) -> Any:
    file_id = params.string("file_id", missing="file_id is empty")
    stored = api.world.files.get(file_id or "")
    if stored is None:
        raise bad_request(INVALID_FILE_ID)
    return stored.as_dict()


# --- forum topics ------------------------------------------------------------------------------


@method("createForumTopic")
async def create_forum_topic(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = api.world.forum(params.chat_id())
    name = (params.string("name") or "").strip()
    if not name or len(name) > 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_INVALID")
    color = params.integer("icon_color", default=TOPIC_ICON_COLORS[0])
    if color not in TOPIC_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    # The topic's id is the id of the service message that opens it, as in Telegram.
    created = {"name": name, "icon_color": color}
    opening = api.world.add_message(chat, api.world.bot_user, media={"forum_topic_created": created})
    opening.thread_id = opening.message_id
    topic = chat.add_topic(opening.message_id, name, int(color or TOPIC_ICON_COLORS[0]))
    return topic.as_dict()


@method("editForumTopic")
async def edit_forum_topic(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = api.world.forum(params.chat_id())
    topic = chat.topic(
        params.integer("message_thread_id", missing="TOPIC_ID_INVALID") or 0, for_sending=False
    )
    name = params.string("name")
    if name is not None:
        if not name.strip() or len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        if name == topic.name:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name = name
    return True


@method("deleteForumTopic")
async def delete_forum_topic(api: FakeBotApi, params: Params, at: float) -> Any:
    chat = api.world.forum(params.chat_id())
    topic = chat.topic(
        params.integer("message_thread_id", missing="TOPIC_ID_INVALID") or 0, for_sending=False
    )
    topic.deleted = True
    for message in api.world.messages.values():
        if message.chat is chat and message.thread_id == topic.thread_id:
            message.deleted = True
    return True
