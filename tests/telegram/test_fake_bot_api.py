"""The fake Bot API server answers the real aiogram bot the way Telegram would, errors included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from testing.telegram.fake.flood import FloodLimits
from testing.telegram.fake_bot_api import FakeBotApi

CUSTOMER = 700_001
OPERATORS = -100_500_600


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


def bot_for(server: FakeBotApi, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token or server.token, session=session)


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    client = bot_for(fake)
    yield client
    await client.session.close()


async def raw_call(server: FakeBotApi, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """A call made without aiogram, to send what aiogram would never send."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}/bot{server.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


def inline(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=title, callback_data=data)] for title, data in pairs]
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- identity and sending ---------------------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "frontline_test_bot")


async def test_messages_get_increasing_ids_per_chat_and_are_recorded(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")  # the customer's message takes id 1
    first = await bot.send_message(CUSTOMER, "Hi there")
    second = await bot.send_message(CUSTOMER, "How can I help?")
    assert (first.message_id, second.message_id) == (2, 3)
    assert first.from_user is not None and first.from_user.is_bot
    assert first.chat.id == CUSTOMER and first.date is not None
    sent = await fake.wait_sent(CUSTOMER, 2)
    assert [(s.method, s.message_id, s.text) for s in sent] == [
        ("sendMessage", 2, "Hi there"),
        ("sendMessage", 3, "How can I help?"),
    ]
    assert ("sendMessage", {"chat_id": str(CUSTOMER), "text": "Hi there"}) in fake.calls


async def test_wait_sent_reports_what_was_sent_when_it_times_out(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    await bot.send_message(CUSTOMER, "only one")
    with pytest.raises(TimeoutError, match="only one"):
        await fake.wait_sent(CUSTOMER, 2, timeout=0.2)


async def test_unknown_chat_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(424242, "anyone there?")


async def test_text_limit_is_4096_utf16_units_after_parsing(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    await bot.send_message(CUSTOMER, "я" * 4096)
    await bot.send_message(CUSTOMER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(CUSTOMER, "я" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CUSTOMER, "😀" * 2049)  # two UTF-16 units each


async def test_empty_or_blank_text_is_refused(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    for text in ("", "  \n "):
        with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
            await bot.send_message(CUSTOMER, text)
    assert fake.sent == []


async def test_missing_chat_id_is_refused(fake: FakeBotApi) -> None:
    status, body = await raw_call(fake, "sendMessage", data={"text": "hi"})
    assert (status, body) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"},
    )


async def test_callback_data_over_64_bytes_is_refused(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    await bot.send_message(CUSTOMER, "Choose", reply_markup=inline(("Да", "д" * 32)))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(CUSTOMER, "Choose", reply_markup=inline(("Да", "д" * 33)))


async def test_unparsable_reply_markup_is_refused(fake: FakeBotApi) -> None:
    fake.push_message(CUSTOMER, "hello")
    status, body = await raw_call(
        fake,
        "sendMessage",
        data={"chat_id": str(CUSTOMER), "text": "hi", "reply_markup": "{inline_keyboard: ["},
    )
    assert status == 400
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_inline_button_without_an_action_is_refused(fake: FakeBotApi) -> None:
    fake.push_message(CUSTOMER, "hello")
    markup = json.dumps({"inline_keyboard": [[{"text": "Press me"}]]})
    status, body = await raw_call(
        fake, "sendMessage", data={"chat_id": str(CUSTOMER), "text": "hi", "reply_markup": markup}
    )
    assert status == 400
    assert "Text buttons are unallowed in the inline keyboard" in body["description"]


async def test_reply_to_a_missing_message_is_refused_unless_allowed(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to be replied not found"):
        await bot.send_message(CUSTOMER, "re", reply_parameters=ReplyParameters(message_id=77))
    reply = ReplyParameters(message_id=77, allow_sending_without_reply=True)
    assert (await bot.send_message(CUSTOMER, "re", reply_parameters=reply)).text == "re"
    assert (await bot.send_message(CUSTOMER, "re", reply_parameters=ReplyParameters(message_id=1))).text


async def test_reply_keyboard_is_recorded_as_sent(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Share my number", request_contact=True)]])
    message = await bot.send_message(CUSTOMER, "Your phone?", reply_markup=keyboard)
    assert message.reply_markup is None  # Telegram returns only inline keyboards on a message
    await bot.send_message(CUSTOMER, "Thanks", reply_markup=ReplyKeyboardRemove())
    sent = await fake.wait_sent(CUSTOMER, 2)
    assert sent[0].reply_markup == {"keyboard": [[{"text": "Share my number", "request_contact": True}]]}
    assert sent[1].reply_markup == {"remove_keyboard": True}


async def test_blocked_chat_answers_403(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    await bot.send_message(CUSTOMER, "before")
    fake.block_chat(CUSTOMER)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(CUSTOMER, "after")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(CUSTOMER, "typing")
    assert [s.text for s in fake.sent] == ["before"]


async def test_blocking_can_notify_the_bot(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    fake.block_chat(CUSTOMER, notify=True)
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"


async def test_injected_429_carries_retry_after_then_passes(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7, times=2
    )
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(CUSTOMER, "hi")
        assert caught.value.retry_after == 7
        assert "Too Many Requests: retry after 7" in str(caught.value)
    await bot.send_message(CUSTOMER, "hi")
    assert len(fake.sent) == 1
    assert [name for name, _ in fake.calls].count("sendMessage") == 3


async def test_flood_limits_refuse_a_burst_beyond_the_allowance(fake: FakeBotApi, bot: Bot) -> None:
    other = CUSTOMER + 1
    fake.push_message(CUSTOMER, "hello")
    fake.push_message(other, "hello")
    fake.enforce_flood_limits(FloodLimits(per_chat_per_second=0.01, burst=3))
    for n in range(3):
        await bot.send_message(CUSTOMER, f"part {n}")
    with pytest.raises(TelegramRetryAfter, match="Too Many Requests: retry after") as caught:
        await bot.send_message(CUSTOMER, "part 3")
    assert caught.value.retry_after >= 90  # a token comes back after 100 s at this rate
    await bot.send_message(other, "another chat has its own allowance")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(other, " ")  # refused messages do not count
    assert [s.text for s in fake.sent if s.chat_id == CUSTOMER] == ["part 0", "part 1", "part 2"]


async def test_wrong_token_is_unauthorized(fake: FakeBotApi) -> None:
    intruder = bot_for(fake, token="999:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
    finally:
        await intruder.session.close()


async def test_unknown_method_is_not_found(fake: FakeBotApi) -> None:
    status, body = await raw_call(fake, "sendTelepathy", data={"chat_id": "1"})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_json_body_and_query_string_are_accepted(fake: FakeBotApi) -> None:
    fake.push_message(CUSTOMER, "hello")
    status, body = await raw_call(fake, "sendMessage", json={"chat_id": CUSTOMER, "text": "from json"})
    assert status == 200 and body["result"]["text"] == "from json"
    status, body = await raw_call(
        fake, "sendmessage", params={"chat_id": str(CUSTOMER), "text": "from query"}
    )
    assert status == 200 and body["result"]["text"] == "from query"
    assert [name for name, _ in fake.calls] == ["sendMessage", "sendMessage"]


# --- parse modes -------------------------------------------------------------------------------


async def test_html_is_parsed_into_entities(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    message = await bot.send_message(CUSTOMER, "Order <b>№ ٤٢</b> &amp; more", parse_mode="HTML")
    assert message.text == "Order № ٤٢ & more"
    assert message.entities is not None
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 6, 4)]


async def test_unescaped_html_and_markdown_are_refused(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    with pytest.raises(TelegramBadRequest, match="Bad Request: can't parse entities"):
        await bot.send_message(CUSTOMER, "speed < 2 Mbit/s", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div" at byte offset 0'):
        await bot.send_message(CUSTOMER, "<div>hi</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(CUSTOMER, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(CUSTOMER, "Tariff 3.5", parse_mode="MarkdownV2")
    message = await bot.send_message(CUSTOMER, "Tariff *3\\.5*", parse_mode="MarkdownV2")
    assert message.text == "Tariff 3.5"
    with pytest.raises(TelegramBadRequest, match="Bad Request: unsupported parse_mode"):
        await bot.send_message(CUSTOMER, "hi", parse_mode="BBCode")


# --- editing, deleting, callback queries ------------------------------------------------------


async def test_editing_follows_telegram_rules(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    original = await bot.send_message(CUSTOMER, "Pick one", reply_markup=inline(("A", "a")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Pick one", chat_id=CUSTOMER, message_id=original.message_id, reply_markup=inline(("A", "a"))
        )
    edited = await bot.edit_message_text("Picked A", chat_id=CUSTOMER, message_id=original.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None  # no markup given: keyboard gone
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("hacked", chat_id=CUSTOMER, message_id=1)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("ghost", chat_id=CUSTOMER, message_id=99)
    assert [s.method for s in fake.sent] == ["sendMessage", "editMessageText"]
    assert fake.sent[-1].text == "Picked A" and fake.sent[-1].message_id == original.message_id


async def test_edit_reply_markup_and_delete(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    message = await bot.send_message(CUSTOMER, "Rate us", reply_markup=inline(("5", "rate:5")))
    await bot.edit_message_reply_markup(chat_id=CUSTOMER, message_id=message.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=CUSTOMER, message_id=message.message_id)
    assert await bot.delete_message(CUSTOMER, message.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CUSTOMER, message.message_id)
    assert [m["message_id"] for m in fake.chat_messages(CUSTOMER)] == [1]


async def test_callback_queries_are_answered_once(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    message = await bot.send_message(CUSTOMER, "Talk to a person?", reply_markup=inline(("Yes", "handoff")))
    fake.push_callback(CUSTOMER, "handoff", message_id=message.message_id, language_code="ar")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.data == "handoff" and query.from_user.language_code == "ar"
    assert query.id == fake.last_callback_id
    assert await bot.answer_callback_query(query.id, text="Connecting you")
    assert fake.answered_callbacks[query.id]["text"] == "Connecting you"
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("12345")


async def test_callback_queries_can_expire(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    message = await bot.send_message(CUSTOMER, "Still there?", reply_markup=inline(("Yes", "yes")))
    fake.callback_query_ttl = 0.1
    fake.push_callback(CUSTOMER, "yes", message_id=message.message_id)
    await asyncio.sleep(0.3)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(str(fake.last_callback_id))


async def test_customer_can_only_press_buttons_that_are_shown(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    message = await bot.send_message(CUSTOMER, "Choose", reply_markup=inline(("A", "a")))
    with pytest.raises(ValueError, match="no button"):
        fake.push_callback(CUSTOMER, "b", message_id=message.message_id)
    with pytest.raises(ValueError, match="no message"):
        fake.push_callback(CUSTOMER, "a", message_id=1)


async def test_chat_actions_and_commands_are_validated(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    assert await bot.send_chat_action(CUSTOMER, "typing")
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await bot.send_chat_action(CUSTOMER, "dancing")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="operator", description=" ")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Talk-To-Human", description="Operator")])
    await bot.set_my_commands(
        [BotCommand(command="operator", description="Talk to a person")], language_code="ru"
    )
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["operator"]
    assert await bot.get_my_commands() == []
    assert await bot.set_my_description("Home internet help, day and night", language_code="en")
    assert (await bot.get_my_description(language_code="en")).description.startswith("Home internet")
    with pytest.raises(TelegramBadRequest, match="SHORT_DESCRIPTION_INVALID"):
        await bot.set_my_short_description("x" * 121)


# --- forum topics ------------------------------------------------------------------------------


async def test_forum_topics_and_deleted_threads(fake: FakeBotApi, bot: Bot) -> None:
    fake.add_chat(OPERATORS, title="Operators", is_forum=True)
    topic = await bot.create_forum_topic(OPERATORS, "Customer 700001")
    sent = await bot.send_message(OPERATORS, "Context card", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert fake.sent[-1].thread_id == topic.message_thread_id
    fake.push_message(OPERATORS, "Hello, I am Dana", user_id=42, thread_id=topic.message_thread_id)
    assert await bot.delete_forum_topic(OPERATORS, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(OPERATORS, "late", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(OPERATORS, "never", message_thread_id=9999)


async def test_a_deleted_topic_cannot_be_deleted_again(fake: FakeBotApi, bot: Bot) -> None:
    fake.add_chat(OPERATORS, title="Operators", is_forum=True)
    topic = await bot.create_forum_topic(OPERATORS, "Customer 700001")
    await bot.delete_forum_topic(OPERATORS, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: TOPIC_ID_INVALID"):
        await bot.delete_forum_topic(OPERATORS, topic.message_thread_id)


async def test_topics_need_a_forum(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(CUSTOMER, "Nope")


# --- files -------------------------------------------------------------------------------------


async def test_customer_media_arrives_valid_and_downloadable(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_photo(CUSTOMER, caption="my modem")
    fake.push_document(CUSTOMER, file_name="счёт.pdf")
    fake.push_voice(CUSTOMER, duration=5)
    fake.push_sticker(CUSTOMER, emoji="🙏")
    fake.push_contact(CUSTOMER, "+989121234567")
    photo, document, voice, sticker, contact = [u.message for u in await bot.get_updates()]
    assert photo is not None and photo.photo and photo.caption == "my modem"
    file = await bot.get_file(photo.photo[-1].file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read().startswith(b"\xff\xd8")
    assert document is not None and document.document is not None
    assert (document.document.file_name, document.document.mime_type) == ("счёт.pdf", "application/pdf")
    assert voice is not None and voice.voice is not None and voice.voice.duration == 5
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.emoji == "🙏"
    assert contact is not None and contact.contact is not None
    assert (contact.contact.phone_number, contact.contact.user_id) == ("+989121234567", CUSTOMER)
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("nope")


async def test_media_rules(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    picture = BufferedInputFile(b"\xff\xd8\xff picture", filename="p.jpg")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(CUSTOMER, picture, caption="ж" * 1025)
    with pytest.raises(TelegramBadRequest, match="Bad Request: file must be non-empty"):
        await bot.send_document(CUSTOMER, BufferedInputFile(b"", filename="empty.txt"))
    with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
        await bot.send_photo(CUSTOMER, "https://example.org/modem.jpg")
    status, body = await raw_call(fake, "sendPhoto", data={"chat_id": str(CUSTOMER)})
    assert (status, body["description"]) == (400, "Bad Request: there is no photo in the request")
    photo = await bot.send_photo(CUSTOMER, picture, caption="ж" * 1024)
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("text", chat_id=CUSTOMER, message_id=photo.message_id)
    assert fake.sent[-1].text == "ж" * 1024


async def test_download_of_unknown_path_is_not_found(fake: FakeBotApi) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.base_url}/file/bot{fake.token}/photos/none.jpg") as response,
    ):
        assert response.status == 404


async def test_bot_uploads_and_resends_by_file_id(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    upload = BufferedInputFile(b"%PDF-1.4 receipt", filename="receipt.pdf")
    message = await bot.send_document(CUSTOMER, upload, caption="Your receipt")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == ("receipt.pdf", "application/pdf")
    again = await bot.send_document(CUSTOMER, message.document.file_id)
    assert again.document is not None and again.document.file_id == message.document.file_id
    photo = await bot.send_photo(CUSTOMER, BufferedInputFile(b"\xff\xd8\xff fake", filename="map.jpg"))
    assert photo.photo
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(CUSTOMER, "AgACAgIAAxkBAAI-made-up")
    assert [(s.method, s.text) for s in fake.sent] == [
        ("sendDocument", "Your receipt"),
        ("sendDocument", None),
        ("sendPhoto", None),
    ]


# --- long polling ------------------------------------------------------------------------------


async def test_updates_stay_pending_until_confirmed(fake: FakeBotApi, bot: Bot) -> None:
    first = fake.push_message(CUSTOMER, "one")
    second = fake.push_message(CUSTOMER, "two")
    assert second == first + 1
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=second, limit=10)] == [second]
    assert fake.confirmed_offset == second
    assert await bot.get_updates(offset=second + 1) == []
    assert fake.confirmed_offset == second + 1


async def test_limit_and_negative_offset(fake: FakeBotApi, bot: Bot) -> None:
    ids = [fake.push_message(CUSTOMER, str(n)) for n in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[-1:]  # the earlier ones were forgotten


async def test_after_a_quiet_week_ids_restart_lower_and_a_stale_offset_swallows_them(
    fake: FakeBotApi, bot: Bot
) -> None:
    old = fake.push_message(CUSTOMER, "last week")
    assert [u.update_id for u in await bot.get_updates()] == [old]
    assert await bot.get_updates(offset=old + 1) == []
    fake.a_week_passes(next_update_id=old - 500)
    new = fake.push_message(CUSTOMER, "hello again")
    assert new == old - 500
    assert await bot.get_updates(offset=old + 1) == []  # below the offset: confirmed, never shown
    assert fake.updates.pending == []
    fake.a_week_passes(next_update_id=old)  # an id already used once
    reused = fake.push_message(CUSTOMER, "and again")
    updates = await bot.get_updates()
    assert [(u.update_id, u.message.text) for u in updates if u.message] == [(reused, "and again")]


async def test_telegram_renumbers_only_when_nothing_is_pending(fake: FakeBotApi) -> None:
    fake.push_message(CUSTOMER, "waiting")
    with pytest.raises(RuntimeError, match="pending"):
        fake.a_week_passes(next_update_id=5)


async def test_call_times_and_clearing_failures(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("getUpdates", status=502, description="Bad Gateway", times=100)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_updates()
    fake.clear_failures("getUpdates")
    assert await bot.get_updates() == []
    times = fake.call_times("getUpdates")
    assert len(times) == 3 and times == sorted(times)


async def test_raw_update_makes_its_chat_known(fake: FakeBotApi, bot: Bot) -> None:
    chat = {"id": 880_001, "type": "private", "first_name": "Raw"}
    user = {"id": 880_001, "is_bot": False, "first_name": "Raw"}
    update_id = fake.push_raw(
        {"message": {"message_id": 5, "date": 1, "chat": chat, "from": user, "text": "x"}}
    )
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    reply = await bot.send_message(880_001, "reply")
    assert (reply.chat.id, reply.message_id) == (880_001, 6)


async def test_long_poll_waits_and_wakes_on_a_new_update(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "start")
    polling = asyncio.create_task(bot.get_updates(offset=fake.updates.next_id(), timeout=10))
    await asyncio.sleep(0.3)
    assert not polling.done()
    update_id = fake.push_message(CUSTOMER, "are you there?")
    updates = await asyncio.wait_for(polling, 5)
    assert [u.update_id for u in updates] == [update_id]


async def test_long_poll_returns_empty_after_its_timeout(fake: FakeBotApi, bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == []


async def test_second_poller_terminates_the_first(fake: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    update_id = fake.push_message(CUSTOMER, "hi")
    assert [u.update_id for u in await asyncio.wait_for(second, 5)] == [update_id]


async def test_allowed_updates_filters_new_updates(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    sent = await bot.send_message(CUSTOMER, "Choose", reply_markup=inline(("A", "a")))
    first = await bot.get_updates(allowed_updates=["message"])
    fake.push_callback(CUSTOMER, "a", message_id=sent.message_id)
    later = fake.push_message(CUSTOMER, "typed instead")
    updates = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.update_id for u in updates] == [later]  # the setting is remembered between calls


async def test_dispatcher_polls_and_confirms(fake: FakeBotApi, bot: Bot) -> None:
    dispatcher = Dispatcher()
    seen: list[str] = []

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer(f"echo: {message.text}")

    first = fake.push_message(CUSTOMER, "привет")
    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False))
    try:
        await fake.wait_sent(CUSTOMER, 1, timeout=10)
        fake.push_raw(fake.updates.history[first])  # Telegram delivers the same update again
        await fake.wait_sent(CUSTOMER, 2, timeout=10)
    finally:
        await dispatcher.stop_polling()
        await polling
    assert seen == ["привет", "привет"]
    assert fake.confirmed_offset == first + 1


async def test_delay_lets_a_later_call_overtake(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    fake.set_delay("sendMessage", 0.5)
    slow = asyncio.create_task(bot.send_message(CUSTOMER, "first"))
    await asyncio.sleep(0.1)
    fake.set_delay("sendMessage", 0)
    await bot.send_message(CUSTOMER, "second")
    await slow
    sent = await fake.wait_sent(CUSTOMER, 2)
    assert [s.text for s in sent] == ["second", "first"]  # ids follow processing, `at` follows arrival
    assert sent[0].message_id < sent[1].message_id and sent[1].at < sent[0].at


# --- webhook -----------------------------------------------------------------------------------


class WebhookReceiver:
    """A stand-in for the bot's webhook endpoint, answering with a chosen status and body."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.status = 200
        self.answer: dict[str, Any] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if self.answer is not None:
            return web.json_response(self.answer, status=self.status)
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/tg", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield hook, f"http://127.0.0.1:{port}/tg"
    await runner.cleanup()


async def test_webhook_blocks_polling_until_deleted(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_message(CUSTOMER, "hello")
    await bot.set_webhook("https://bot.example.org/tg", secret_token="s3cret")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://bot.example.org/tg", 1)
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == []
    with pytest.raises(TelegramBadRequest, match="An HTTPS URL must be provided"):
        await bot.set_webhook("http://bot.example.org/tg")


async def test_setting_a_webhook_ends_a_waiting_poll(fake: FakeBotApi, bot: Bot) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    await bot.set_webhook("https://bot.example.org/tg")
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await asyncio.wait_for(polling, 5)


async def test_webhook_delivery_keeps_failed_updates(
    fake: FakeBotApi, bot: Bot, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    await bot.set_webhook(url, secret_token="s3cret")
    update_id = fake.push_message(CUSTOMER, "hello")
    hook.status = 500
    assert await fake.deliver_webhook() == 500
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    hook.status = 200
    assert await fake.deliver_webhook() == 200
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert await fake.deliver_webhook(update_id) == 200  # delivered again on purpose
    assert [(u["update_id"], secret) for u, secret in hook.received] == [(update_id, "s3cret")] * 3
    with pytest.raises(LookupError):
        await fake.deliver_webhook()


async def test_webhook_answer_can_carry_a_call(
    fake: FakeBotApi, bot: Bot, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    await bot.set_webhook(url)
    fake.push_message(CUSTOMER, "hello")
    hook.answer = {"method": "sendMessage", "chat_id": CUSTOMER, "text": "answered in the webhook reply"}
    assert await fake.deliver_webhook() == 200
    assert [s.text for s in await fake.wait_sent(CUSTOMER)] == ["answered in the webhook reply"]


async def test_aiogram_webhook_handler_receives_updates_and_answers_in_its_reply(
    fake: FakeBotApi, bot: Bot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message) -> SendMessage:
        return message.answer(f"got {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token="s3cret").register(
        app, path="/tg"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
        await bot.set_webhook(url, secret_token="wrong")
        fake.push_message(CUSTOMER, "سلام")
        assert await fake.deliver_webhook() == 401  # aiogram refuses a wrong secret; the update stays
        await bot.set_webhook(url, secret_token="s3cret")
        assert await fake.deliver_webhook() == 200
        assert [s.text for s in await fake.wait_sent(CUSTOMER)] == ["got سلام"]
        assert fake.updates.pending == []
    finally:
        await runner.cleanup()
