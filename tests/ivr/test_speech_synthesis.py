"""Prompts from espeak-ng through pyttsx3: phone-rate audio in every language, one engine thread."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from ivr.speech.errors import SynthesisError
from ivr.speech.synthesis import Speaker
from ivr.speech.wav import read_wav, rms
from tests.ivr.speech_audio import endpoint
from tests.support import require

PROMPTS = {
    "en": "Say tariffs, order status, new connection or operator.",
    "ru": "Скажите: тарифы, статус заказа, подключение или оператор.",
    "ar": "قل: الأسعار، حالة الطلب، اشتراك جديد، أو موظف.",
    "fa": "بگویید: تعرفه، وضعیت سفارش، اشتراک جدید یا اپراتور.",
    "ko": "요금 안내, 주문 확인, 신규 가입 또는 상담원이라고 말씀하세요.",
}


@pytest.mark.parametrize("language", sorted(PROMPTS))
async def test_a_prompt_is_8khz_speech_of_plausible_length(speaker: Speaker, language: str) -> None:
    pcm = await speaker.synthesize(PROMPTS[language], language)

    assert len(pcm) % 2 == 0
    seconds = len(pcm) / 16000  # 8000 samples of 2 bytes a second
    # About 2-6 spoken words a second: a 3 s sentence is not 0.3 s (wrong rate) or 30 s (garbage).
    assert 1.5 <= seconds <= 12.0, seconds
    assert rms(pcm) > 500  # audible, not silence
    assert endpoint(pcm + b"\0" * 16000), "the endpointer hears no speech in the prompt"


async def test_a_longer_text_gives_longer_audio(speaker: Speaker) -> None:
    short = len(await speaker.synthesize("상담원", "ko"))
    long = len(await speaker.synthesize("상담원 상담원 상담원 상담원", "ko"))
    assert long > 2 * short  # not 4x: each render ends with the same pause


async def test_the_same_prompt_is_rendered_once_and_served_from_the_cache(speaker: Speaker) -> None:
    first = await speaker.synthesize("Your order is on its way.", "en")
    again = await speaker.synthesize("Your order is on its way.", "en")
    assert again is first


async def test_many_calls_at_once_share_one_engine_thread() -> None:
    speaker = Speaker()
    words = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ]
    texts = [" ".join(words[: n + 1]) for n in range(len(words))]  # each longer than the one before

    together = await asyncio.gather(*(speaker.synthesize(text, "en") for text in texts))

    engine_threads = [t for t in threading.enumerate() if t.name == "tts-espeak"]
    assert len(engine_threads) == 1
    assert all(rms(pcm) > 500 for pcm in together)
    # Each coroutine got its own text, not a neighbour's: the lengths grow with the texts and
    # match one-at-a-time renders (within a few ms: espeak-ng's output is not bit-exact run to run).
    lengths = [len(pcm) for pcm in together]
    assert lengths == sorted(lengths)
    fresh = Speaker()
    for text, pcm in zip(texts, together, strict=True):
        assert len(await fresh.synthesize(text, "en")) == pytest.approx(len(pcm), rel=0.1)


async def test_an_unknown_voice_is_a_clear_error_and_not_cached(speaker: Speaker) -> None:
    bad = Speaker({"xx": "no-such-voice"})
    for _ in range(2):
        with pytest.raises(SynthesisError, match="no-such-voice"):
            await bad.synthesize("hello", "xx")
    assert rms(await bad.synthesize("hello", "en")) > 500


async def test_a_closed_speaker_refuses_work(speaker: Speaker) -> None:
    closing = Speaker()
    closing.close()
    with pytest.raises(SynthesisError, match="closed"):
        await closing.synthesize("hello", "en")


async def test_empty_text_is_empty_audio(speaker: Speaker) -> None:
    assert await speaker.synthesize("   ", "ru") == b""


async def test_the_audio_lasts_as_long_as_espeak_ng_says_it(speaker: Speaker, tmp_path: Path) -> None:
    # The library hands back 22050 Hz audio; a wrong rate would make the prompt 2.75x too long or short.
    require(shutil.which("espeak-ng") is not None, "the espeak-ng command")
    text = "Your connection will be ready on Monday."
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "200", "-w", str(tmp_path / "cli.wav"), text], check=True
    )
    reference, rate = read_wav(tmp_path / "cli.wav")

    pcm = await speaker.synthesize(text, "en")

    # Within 10%: a voice's speed setting may carry over from the previous language (see synthesis.py).
    assert len(pcm) / 2 / 8000 == pytest.approx(len(reference) / 2 / rate, rel=0.1)
