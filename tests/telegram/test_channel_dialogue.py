"""A customer talking to the real trained bot through the real aiogram bot and the fake Telegram."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import select

from app.factory import SYSTEM_MESSAGES
from bot.responses import load_language
from core.messages import load_system_messages
from core.models import ConversationSession, Customer, Message, Order
from testing.telegram.fake_bot_api import FakeBotApi
from tests.chat import FrontLine
from tests.telegram.conftest import TelegramCustomer

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)]


async def test_start_greets_with_the_main_menu_and_offers_to_share_the_phone(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    replies = await customer.say("/start")
    assert "virtual assistant" in replies[0].text
    assert customer.buttons == [
        "Tariffs and prices", "Connect internet", "Order status", "Internet not working", "Talk to a person",
    ]  # fmt: skip
    share = replies[-1].reply_markup
    assert share is not None and share["keyboard"][0][0]["request_contact"] is True

    await customer.press("Tariffs and prices")
    assert "Home 300: 300 Mbit/s, $35.00 a month" in customer.text
    query = fake.last_callback_id
    assert query is not None and query in fake.answered_callbacks


async def test_frequently_asked_questions(fake: FakeBotApi, front_line: FrontLine) -> None:
    customer = TelegramCustomer(fake, front_line)
    await customer.say("what are your opening hours")
    assert "08:00" in customer.text
    await customer.say("how can i pay my bill")
    assert "bank card" in customer.text


async def test_a_whole_order_through_buttons(fake: FakeBotApi, front_line: FrontLine) -> None:
    customer = TelegramCustomer(fake, front_line)
    await customer.say("/start")
    await customer.press("Connect internet")
    assert "full name" in customer.text
    await customer.say("Ivan Petrov")
    await customer.say("+7 916 123-45-67")
    await customer.say("12 Park Lane, flat 4")
    assert "Home Gigabit" in " ".join(customer.buttons)
    await customer.press("Home Gigabit")
    await customer.press()  # the first visit day the bot suggests
    assert "Please check your order" in customer.text
    assert "Change address" in customer.buttons
    await customer.press("Yes, place the order")
    found = re.search(r"order number is (\d{7})", customer.text)
    assert found, customer.text
    # Every button press was answered, so no button kept spinning on the customer's phone.
    pressed = [u["callback_query"]["id"] for u in fake.updates.history.values() if "callback_query" in u]
    assert len(pressed) == 4 and all(q in fake.answered_callbacks for q in pressed)

    async with front_line.db() as db:
        order = await db.scalar(select(Order).where(Order.number == found.group(1)))
    assert order is not None
    assert (order.full_name, order.phone) == ("Ivan Petrov", "+79161234567")
    assert order.tariff_code == "home_gigabit"


async def test_the_telegram_language_selects_the_session_language(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line, language="ru-RU")
    await customer.say("привет")
    assert customer.text  # answered, never silence
    async with front_line.db() as db:
        session = await db.scalar(
            select(ConversationSession)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(Customer.key == customer.key)
        )
    assert session is not None and session.language == "ru" and session.channel == "telegram"
    # The front line's own sentences come in the customer's language where it has them.
    await customer.settle(fake.push_sticker(customer.chat_id))
    texts = load_system_messages(SYSTEM_MESSAGES, "en")
    assert customer.text == texts.get("media_saved", "ru") != texts.get("media_saved", "en")


async def test_notices_follow_the_language_the_customer_writes_not_the_telegram_one(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line, language="en")
    await customer.say("سلام، ساعت کاری شما تا کیه؟")
    texts = load_system_messages(SYSTEM_MESSAGES, "en")
    await customer.settle(fake.push_sticker(customer.chat_id))
    assert customer.text == texts.get("media_saved", "fa") != texts.get("media_saved", "en")
    query = _expired_button(customer, customer.received[0].message_id, customer.received[0].text)
    await customer.settle(fake.push_raw({"callback_query": query}))
    assert fake.answered_callbacks[query["id"]]["text"] == texts.get("button_expired", "fa")


async def test_a_persian_customer_gets_menu_answers_and_a_person_in_persian(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    persian = load_language("fa").responses
    customer = TelegramCustomer(fake, front_line, language="fa")
    await customer.say("/start")
    assert persian["utter_greet"]["text"] in customer.text
    assert customer.buttons[:5] == list(persian["utter_greet"]["buttons"].values())
    await customer.press(persian["utter_greet"]["buttons"]["/ask_tariffs"])
    assert "خانگی گیگابیت" in customer.text and "۵۰٫۰۰" in customer.text  # Persian name and digits
    await customer.say("رمز وای فای رو یادم رفته چیکار کنم")
    assert persian["utter_faq/wifi_password"]["text"] in customer.text
    # "Tomorrow" has no letter or word Arabic lacks: it must not turn the session (and replies) Arabic.
    await customer.say("فردا")
    await customer.press(persian["utter_greet"]["buttons"]["/request_human"])
    assert persian["utter_offer_handoff"]["text"] in customer.text
    await customer.press(persian["utter_offer_handoff"]["buttons"]["/affirm"])
    assert persian["utter_handoff_started"]["text"] in customer.text
    async with front_line.db() as db:
        session = await db.scalar(
            select(ConversationSession)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(Customer.key == customer.key)
        )
    assert session is not None and session.state == "queued" and session.language == "fa"


async def test_sharing_the_own_phone_finds_orders_made_by_phone(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    # An order placed earlier on another channel, with the phone the customer shares below.
    phone = "+7 916 555-" + f"{customer_suffix(fake)}"
    web = front_line.customer("web")
    await web.say("I'd like to get internet connected at home")
    await web.say("Olga Ivanova")
    await web.say(phone)
    await web.say("7 Elm Street, flat 1")
    await web.say("Home 300")
    await web.say(web.buttons[0]["payload"])
    await web.say("yes")
    number = re.search(r"order number is (\d{7})", web.text)
    assert number, web.text

    customer = TelegramCustomer(fake, front_line)
    await customer.say("hello")
    # Somebody else's contact, forwarded: kept in the conversation, but not put on the card.
    await customer.settle(fake.push_raw(foreign_contact(customer.chat_id, "442079460000")))
    assert "saved what you sent" in customer.text
    digits = re.sub(r"\D", "", phone)
    await customer.settle(fake.push_contact(customer.chat_id, digits))  # Telegram sends no "+"
    assert "phone number is linked" in customer.text
    async with front_line.db() as db:
        card = await db.scalar(select(Customer).where(Customer.key == customer.key))
    assert card is not None and card.phone == f"+{digits}"

    await customer.say("where is my order?")
    assert f"Order {number.group(1)}" in customer.text


def foreign_contact(chat_id: int, phone: str) -> dict[str, object]:
    sender = {"id": chat_id, "is_bot": False, "first_name": "Test"}
    return {
        "message": {
            "message_id": 90_001,
            "date": 1_790_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": sender,
            "contact": {"phone_number": phone, "first_name": "Friend", "user_id": chat_id + 1},
        }
    }


def customer_suffix(fake: FakeBotApi) -> str:
    """Four digits that differ between tests sharing one database."""
    return f"{fake.updates.last_update_id // 100_000 % 10_000:04d}"


@pytest.mark.parametrize(
    ("push", "kind"),
    [
        (lambda f, c: f.push_photo(c, caption="the modem lights"), "photo"),
        (lambda f, c: f.push_document(c, file_name="invoice.pdf"), "document"),
        (lambda f, c: f.push_voice(c, duration=4), "voice"),
        (lambda f, c: f.push_sticker(c, emoji="👍"), "sticker"),
    ],
)
async def test_files_are_stored_and_acknowledged(
    fake: FakeBotApi, front_line: FrontLine, push: object, kind: str
) -> None:
    customer = TelegramCustomer(fake, front_line)
    assert callable(push)
    await customer.settle(push(fake, customer.chat_id))
    assert "saved what you sent" in customer.text
    async with front_line.db() as db:
        stored = await db.scalar(
            select(Message)
            .join(ConversationSession, ConversationSession.id == Message.session_id)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(Customer.key == customer.key, Message.direction == "in")
        )
    assert stored is not None and stored.text.startswith(f"[{kind}")
    media = (stored.payload or {})["media"]
    assert media["kind"] == kind and media["file_id"] and media["url"].endswith(media["file_id"])
    if kind == "photo":
        assert stored.text == "[photo] the modem lights"
    # Not for anyone: the file route needs an operator's token.
    anonymous = await front_line.http.get(media["url"])
    assert anonymous.status_code == 401
    assert isinstance(anonymous, httpx.Response)


async def test_a_button_whose_payload_is_gone_is_answered_with_a_notice(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    await customer.say("/start")
    menu = customer.received[0]
    query = _expired_button(customer, menu.message_id, menu.text)
    await customer.settle(fake.push_raw({"callback_query": query}))
    assert (
        fake.answered_callbacks[query["id"]]["text"]
        == "This button has expired. Please use the latest message."
    )
    assert await customer.stored_texts() == ["/greet"]  # nothing was taken as the customer's turn


def _expired_button(customer: TelegramCustomer, message_id: int, text: str | None) -> dict:
    """A press on a button of an old message whose long payload is no longer known (a wiped database)."""
    query = {
        "id": f"50000000000000{message_id:05d}",
        "from": {"id": customer.chat_id, "is_bot": False, "first_name": "Test", "language_code": "en"},
        "message": {
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": {"id": customer.chat_id, "type": "private", "first_name": "Test"},
            "text": text,
        },
        "chat_instance": "1",
        "data": "#0123456789abcdef01234567",
    }
    customer.fake.callback_queries[query["id"]] = query
    customer.fake.callback_pushed_at[query["id"]] = time.monotonic()
    return query
