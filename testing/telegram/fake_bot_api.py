"""A strict fake of the Telegram Bot API server, for testing the Telegram channel over real HTTP.

Telegram's servers cannot be reached from the test machines, so the real aiogram bot talks to
this server instead (`AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))`). It keeps
Telegram's rules rather than being lenient: updates stay pending until confirmed, a second
poller is cut off with 409, unknown chats, over-long texts, broken markup and stale callback
queries are refused with Telegram's own error descriptions. Tests play the customer through the
`push_*` methods and inspect what the bot did through `sent`, `calls`, `call_times` and
`answered_callbacks`; `a_week_passes` makes Telegram pick the next update id at random, as it does
after a week without updates.

Known simplifications: no inline mode, payments, games or polls; chats are addressed by numeric
id only; a webhook may be plain HTTP on loopback (Telegram requires HTTPS); rate limits are not
enforced unless a test asks (`enforce_flood_limits`; `fail_next` injects any single error).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import socket
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from testing.telegram.fake.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from testing.telegram.fake.flood import FloodControl, FloodLimits
from testing.telegram.fake.markup import callback_datas
from testing.telegram.fake.methods import METHODS, canonical_name
from testing.telegram.fake.request import Params, loggable, read_params
from testing.telegram.fake.updates import UpdateQueue
from testing.telegram.fake.webhook import post_update
from testing.telegram.fake.world import Chat, StoredMessage, World

GROUP_MEMBER_ID = 500_000_001  # who writes in a group chat when a test names no user


@dataclass
class SentMessage:
    method: str  # sendMessage, sendPhoto, sendDocument, editMessageText, editMessageReplyMarkup
    chat_id: int
    message_id: int
    text: str | None  # text or caption, as Telegram shows it (markup parsed away)
    reply_markup: dict | None  # parsed JSON, as sent (reply keyboards included)
    thread_id: int | None
    at: float  # time.monotonic() when the fake received the call


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int


class FakeBotApi:
    """One fake Telegram for one bot token, served on 127.0.0.1 at a free port.

    `world` holds chats, messages, topics and files; `updates` the pending updates. Tests drive
    the customer's side with `push_*`, shape the server with `fail_next`, `block_chat`,
    `set_delay`, `enforce_flood_limits` and `callback_query_ttl`, and read `sent`, `calls`,
    `answered_callbacks` and `confirmed_offset`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "frontline_test_bot",
        first_update_id: int = 10_001,
    ) -> None:
        self.token = token
        self.base_url = ""
        bot_id = int(token.split(":", 1)[0])
        self.world = World(
            {
                "id": bot_id,
                "is_bot": True,
                "first_name": "Front line",
                "username": bot_username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )
        self.updates = UpdateQueue(first_update_id)
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict]] = []
        self._called_at: list[tuple[str, float]] = []  # (method, time.monotonic() of arrival)
        self.answered_callbacks: dict[str, dict] = {}
        self.callback_queries: dict[str, dict] = {}  # id -> the callback_query object pushed
        self.callback_pushed_at: dict[str, float] = {}  # id -> time.monotonic() of the push
        # Telegram stops accepting an answer after a while (not documented exactly); None: never.
        self.callback_query_ttl: float | None = None
        self.flood: FloodControl | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope, language) -> commands
        self.bot_texts: dict[tuple[str, str], str] = {}  # (description kind, language) -> text
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._delays: dict[str, float] = {}
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    # --- server lifecycle ------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_call)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, listener).start()
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        self.updates.close()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def confirmed_offset(self) -> int:
        """The highest `offset` a getUpdates call confirmed (0 before any confirmation)."""
        return self.updates.confirmed_offset

    # --- HTTP ------------------------------------------------------------------------------------

    async def _handle_call(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        name = canonical_name(request.match_info["method"])
        try:
            raw = await read_params(request)
        except ApiError as error:
            return _answer_error(error)
        self.calls.append((name, loggable(raw)))
        self._called_at.append((name, received))
        try:
            result = await self.call(name, raw, token=request.match_info["token"], received=received)
        except ApiError as error:
            return _answer_error(error)
        return web.json_response({"ok": True, "result": result})

    async def call(self, name: str, raw: dict[str, Any], *, token: str, received: float) -> Any:
        """One Bot API call after its parameters are read: auth, injected failures, delay, method."""
        if token != self.token:
            raise ApiError(401, UNAUTHORIZED)
        entry = METHODS.get(name.lower())
        if entry is None:
            raise ApiError(404, NOT_FOUND)
        self._raise_injected(entry[0])
        if delay := self._delays.get(entry[0]):
            await asyncio.sleep(delay)
        return await entry[1](self, Params(raw), received)

    async def _handle_download(self, request: web.Request) -> web.Response:
        stored = self.world.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return _answer_error(ApiError(404, NOT_FOUND))
        content_type = mimetypes.guess_type(stored.file_path)[0] or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    def record_sent(self, method: str, message: StoredMessage, markup: dict | None, at: float) -> None:
        text = message.text if message.text is not None else message.caption
        self.sent.append(
            SentMessage(method, message.chat.id, message.message_id, text, markup, message.thread_id, at)
        )

    # --- test controls ---------------------------------------------------------------------------

    def fail_next(
        self, method: str, *, status: int, description: str, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` fail with this answer (checked before anything else)."""
        self._failures[canonical_name(method)].append(_Failure(status, description, retry_after, times))

    def clear_failures(self, method: str) -> None:
        """Failures still queued for `method` are dropped: Telegram is reachable again."""
        self._failures.pop(canonical_name(method), None)

    def call_times(self, method: str) -> list[float]:
        """When each call of `method` arrived (time.monotonic()), failed ones included, in order."""
        name = canonical_name(method)
        return [at for called, at in self._called_at if called == name]

    def a_week_passes(self, next_update_id: int) -> None:
        """No updates for a week: Telegram picks the next update id at random, here `next_update_id`
        (lower than before, or an id already used). Refused while updates are pending."""
        self.updates.renumber(next_update_id)

    def _raise_injected(self, method: str) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        raise ApiError(failure.status, failure.description, retry_after=failure.retry_after)

    def block_chat(self, chat_id: int, *, notify: bool = False) -> None:
        """The customer blocks the bot: from now on every call to the chat gets 403.

        With `notify`, the bot also gets the `my_chat_member` update Telegram sends then.
        """
        chat = self._customer_chat(chat_id)
        chat.blocked = True
        if notify:
            member = self.world.users.get(chat_id) or self.world.user(chat_id)
            self.updates.push(
                {
                    "my_chat_member": {
                        "chat": chat.as_dict(),
                        "from": member,
                        "date": int(time.time()),
                        "old_chat_member": {"status": "member", "user": self.world.bot_user},
                        "new_chat_member": {
                            "status": "kicked",
                            "user": self.world.bot_user,
                            "until_date": 0,
                        },
                    }
                }
            )

    def enforce_flood_limits(self, limits: FloodLimits | None = None) -> None:
        """From now on, sending faster than Telegram allows gets 429 with `retry_after` (off by default)."""
        self.flood = FloodControl(limits or FloodLimits())

    def set_delay(self, method: str, seconds: float) -> None:
        """Calls of `method` wait `seconds` before being processed (message ids follow processing order)."""
        self._delays[canonical_name(method)] = seconds

    def add_chat(
        self, chat_id: int, *, type: str = "supergroup", title: str | None = None, is_forum: bool = False
    ) -> None:
        """A chat the bot was added to (an operators' forum, say); customers' chats appear on their own.

        `is_forum` on a private chat means topics are enabled there, as Telegram allows for bots.
        """
        chat = self.world.add_chat(Chat(chat_id, type))
        chat.type, chat.title, chat.is_forum = type, title, is_forum

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat as the customer sees it now: messages not deleted, edits applied, in order."""
        messages = [
            m for (cid, _), m in sorted(self.world.messages.items()) if cid == chat_id and not m.deleted
        ]
        return [m.as_dict() for m in messages]

    async def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 15.0) -> list[SentMessage]:
        """Waits until at least `count` messages were sent to `chat_id`; returns all of them, in order."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            to_chat = [message for message in self.sent if message.chat_id == chat_id]
            if len(to_chat) >= count:
                return to_chat
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"{len(to_chat)} of {count} messages sent to chat {chat_id} within {timeout} s: "
                    f"{to_chat!r}"
                )
            await asyncio.sleep(0.01)

    # --- the customer's side -----------------------------------------------------------------------

    def _customer_chat(self, chat_id: int, first_name: str = "Test") -> Chat:
        kind = "private" if chat_id > 0 else "supergroup"
        return self.world.add_chat(Chat(chat_id, kind, first_name=first_name))

    def _incoming(
        self,
        chat_id: int,
        user_id: int | None,
        *,
        language_code: str = "en",
        first_name: str = "Test",
        thread_id: int | None = None,
        **content: Any,
    ) -> int:
        chat = self._customer_chat(chat_id, first_name)
        if thread_id is not None:
            chat.topic(thread_id)
        sender_id = user_id if user_id is not None else (chat_id if chat_id > 0 else GROUP_MEMBER_ID)
        sender = self.world.user(sender_id, first_name=first_name, language_code=language_code)
        message = self.world.add_message(chat, sender, thread_id=thread_id, **content)
        return self.updates.push({"message": message.as_dict()})

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str = "en",
        first_name: str = "Test",
        thread_id: int | None = None,
    ) -> int:
        entities = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append(
                {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
            )
        return self._incoming(
            chat_id,
            user_id,
            language_code=language_code,
            first_name=first_name,
            thread_id=thread_id,
            text=text,
            entities=entities,
        )

    def push_callback(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        user_id: int | None = None,
        language_code: str = "en",
    ) -> int:
        """The customer presses a button; only a button the bot's message shows now can be pressed."""
        message = self.world.message(chat_id, message_id)
        if message is None or not message.from_bot:
            raise ValueError(f"chat {chat_id} has no message {message_id} from the bot to press a button on")
        if data not in callback_datas(message.reply_markup):
            raise ValueError(f"message {message_id} in chat {chat_id} shows no button with data {data!r}")
        sender = self.world.user(user_id if user_id is not None else chat_id, language_code=language_code)
        query: dict[str, Any] = {
            "id": str(next(self._query_ids)),
            "from": sender,
            "message": message.as_dict(),
            "chat_instance": str(abs(chat_id) * 7919),
            "data": data,
        }
        self.callback_queries[query["id"]] = query
        self.callback_pushed_at[query["id"]] = time.monotonic()
        return self.updates.push({"callback_query": query})

    @property
    def last_callback_id(self) -> str | None:
        return next(reversed(self.callback_queries), None)

    def push_contact(self, chat_id: int, phone_number: str, *, user_id: int | None = None) -> int:
        """The customer shares their own contact (the reply keyboard's request_contact button)."""
        owner = user_id if user_id is not None else chat_id
        contact = {"phone_number": phone_number, "first_name": "Test", "user_id": owner}
        return self._incoming(chat_id, user_id, media={"contact": contact})

    def push_photo(self, chat_id: int, *, caption: str | None = None) -> int:
        small = self.world.add_file(_sample_bytes("jpg", 1), folder="photos", extension="jpg")
        large = self.world.add_file(_sample_bytes("jpg", 40), folder="photos", extension="jpg")
        sizes = [
            {**_file_fields(small), "width": 90, "height": 68},
            {**_file_fields(large), "width": 1280, "height": 960},
        ]
        return self._incoming(chat_id, None, caption=caption, media={"photo": sizes})

    def push_document(
        self, chat_id: int, *, file_name: str = "invoice.pdf", caption: str | None = None
    ) -> int:
        extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else "bin"
        stored = self.world.add_file(_sample_bytes(extension, 20), folder="documents", extension=extension)
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        document = {**_file_fields(stored), "file_name": file_name, "mime_type": mime}
        return self._incoming(chat_id, None, caption=caption, media={"document": document})

    def push_voice(self, chat_id: int, *, duration: int = 3) -> int:
        stored = self.world.add_file(_sample_bytes("oga", duration * 2), folder="voice", extension="oga")
        voice = {**_file_fields(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self._incoming(chat_id, None, media={"voice": voice})

    def push_sticker(self, chat_id: int, *, emoji: str = "👍") -> int:
        stored = self.world.add_file(_sample_bytes("webp", 4), folder="stickers", extension="webp")
        sticker = {
            **_file_fields(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._incoming(chat_id, None, media={"sticker": sticker})

    def push_raw(self, update: dict) -> int:
        """Exactly this update; its update_id again means Telegram delivers it a second time.

        A chat the update comes from becomes known, as when a customer writes.
        """
        update = json.loads(json.dumps(update))
        for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
            body = update.get(kind) or {}
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                known = Chat(int(chat["id"]), chat.get("type", "private"), title=chat.get("title"))
                known = self.world.add_chat(known)
                message_id = int(body.get("message_id") or (body.get("message") or {}).get("message_id") or 0)
                known.last_message_id = max(known.last_message_id, message_id)
        return self.updates.push(update)

    # --- webhook -------------------------------------------------------------------------------------

    async def deliver_webhook(self, update_id: int | None = None) -> int:
        """POSTs the next pending update (or update `update_id` again) to the webhook; returns the status.

        A 2xx answer confirms the update (and a Bot API call in the answer is performed);
        anything else keeps it pending, as Telegram does before retrying.
        """
        if self.webhook_url is None:
            raise RuntimeError("no webhook is set: the bot has not called setWebhook")
        update = self._webhook_update(update_id)
        if self._client is None:
            self._client = aiohttp.ClientSession()
        answer = await post_update(self._client, self.webhook_url, self.webhook_secret, update)
        if not 200 <= answer.status < 300:
            message = f"Wrong response from the webhook: {answer.status} {answer.reason}"
            self.webhook_last_error = (int(time.time()), message)
            return answer.status
        self.updates.remove(int(update["update_id"]))
        if answer.method_call is not None:
            await self._perform_answer_call(answer.method_call)
        return answer.status

    def _webhook_update(self, update_id: int | None) -> dict[str, Any]:
        if update_id is not None:
            if update_id not in self.updates.history:
                raise LookupError(f"no update {update_id} was ever pushed")
            return self.updates.history[update_id]
        if not self.updates.pending:
            raise LookupError("no pending update to deliver")
        return self.updates.pending[0].update

    async def _perform_answer_call(self, params: dict[str, Any]) -> None:
        name = canonical_name(str(params.pop("method")))
        self.calls.append((name, loggable(params)))
        # Telegram does not report errors of a call made in a webhook answer.
        with contextlib.suppress(ApiError):
            await self.call(name, params, token=self.token, received=time.monotonic())


def _answer_error(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.status)


def _file_fields(stored: Any) -> dict[str, Any]:
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data)}


_MAGIC = {
    "jpg": b"\xff\xd8\xff\xe0",
    "pdf": b"%PDF-1.4\n",
    "oga": b"OggS\x00\x02",
    "webp": b"RIFF\x00\x00\x00\x00WEBP",
}


def _sample_bytes(extension: str, kilobytes: int) -> bytes:
    """Recognisable file contents: the format's magic bytes, then filler."""
    return _MAGIC.get(extension, b"") + bytes(range(256)) * 4 * kilobytes
