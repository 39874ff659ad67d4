"""Long replies split where a reader expects it; long button payloads survive behind a short key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.telegram.keyboards import (
    CALLBACK_DATA_LIMIT,
    callback_data,
    inline_keyboard,
    payload_of,
    remember_long_payloads,
)
from bot.telegram.splitting import TELEGRAM_TEXT_LIMIT, split_message, text_length
from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.schemas import Button
from core.settings import DbSettings

RUSSIAN = "Мы подключим интернет в течение трёх рабочих дней. Техник позвонит заранее!"
ARABIC = "سنقوم بتوصيل الإنترنت خلال ثلاثة أيام عمل؟ سيتصل بك الفني مسبقاً."
PERSIAN = "اینترنت شما ظرف سه روز کاری وصل می‌شود. تکنسین از قبل تماس می‌گیرد؟"


def _rejoined(pieces: list[str]) -> str:
    return " ".join(" ".join(p.split()) for p in pieces)


def test_a_short_reply_is_one_message() -> None:
    assert split_message("Hello!") == ["Hello!"]


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    first, second = "А" * 3000, "Б" * 3000
    assert split_message(f"{first}\n\n{second}") == [first, second]


@pytest.mark.parametrize("sentence", [RUSSIAN, ARABIC, PERSIAN])
def test_long_text_in_any_script_is_cut_after_a_sentence(sentence: str) -> None:
    text = " ".join([sentence] * 200)  # one long paragraph, no line breaks
    pieces = split_message(text)
    assert len(pieces) > 1
    assert all(text_length(p) <= TELEGRAM_TEXT_LIMIT for p in pieces)
    # Every piece ends where a sentence ends (Arabic/Persian question marks too): none is cut in two.
    assert all(p[-1] in ".!؟" for p in pieces), [p[-10:] for p in pieces]
    assert _rejoined(pieces) == " ".join(text.split())


def test_emoji_count_double_as_telegram_counts_them() -> None:
    text = "🙂" * 3000  # 6000 UTF-16 units, no spaces at all
    pieces = split_message(text)
    assert [text_length(p) for p in pieces] == [4096, 6000 - 4096]
    assert "".join(pieces) == text  # no emoji broken in half


def test_a_word_longer_than_the_limit_is_cut_hard_without_loss() -> None:
    text = "x" * 9000
    assert "".join(split_message(text)) == text


def test_short_payloads_travel_in_the_button_itself() -> None:
    assert callback_data("/ask_tariffs") == "=/ask_tariffs"


def test_long_payloads_are_kept_behind_a_key() -> None:
    long = '/correct_field{"field": "visit_date", "note": "' + "ж" * 40 + '"}'
    data = callback_data(long)
    assert data.startswith("#") and len(data.encode()) <= CALLBACK_DATA_LIMIT
    keyboard = inline_keyboard([Button("Visit date", long), Button("Name", "/affirm")])
    assert keyboard is not None
    assert [row[0].callback_data for row in keyboard.inline_keyboard] == [data, "=/affirm"]


async def test_key_store_gives_back_the_payload_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    await upgrade_async(url)
    long = "/inform" + '{"address": "' + "ул. Ленина, д. 5, кв. 12 — подъезд 3, код домофона 1234" + '"}'
    engine = create_engine(DbSettings(url=url))
    sessions = create_session_factory(engine)
    async with sessions() as db, db.begin():
        await remember_long_payloads(db, [Button("Address", long)])
    async with sessions() as db, db.begin():
        await remember_long_payloads(db, [Button("Address", long)])  # shown twice, stored once
    await engine.dispose()

    engine = create_engine(DbSettings(url=url))  # as after a restart
    sessions = create_session_factory(engine)
    async with sessions() as db:
        assert await payload_of(db, callback_data(long)) == long
        assert await payload_of(db, "=/affirm") == "/affirm"
        assert await payload_of(db, "#000000000000000000000000") is None  # unknown key: expired
        assert await payload_of(db, "something else") is None
    await engine.dispose()
