"""The warm pool of free-dictation recognisers on the real Korean model: lent per utterance, reused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ivr.speech.endpointing import Utterance
from ivr.speech.models import SpeechModels
from ivr.speech.pool import PooledRecognizer, PoolLimits, RecognizerPool
from ivr.speech.recognizer import CallRecognizer
from tests.ivr.speech_audio import endpoint, over_the_phone, silence

# Free dictation of these gives the same text run after run; of some other audio it does not
# (the model's features are dithered with random noise), which would hide what is tested here.
STEADY = ["인터넷이 안 돼요", "감사합니다", "사람", "날씨가 좋네요"]


def utterance(espeak: Callable[..., bytes], text: str) -> bytes:
    events = endpoint(silence(0.5) + over_the_phone(espeak(text)) + silence(1.0))
    found = [event.pcm for event in events if isinstance(event, Utterance)]
    assert len(found) == 1, f"{text!r}: {len(found)} utterances"
    return found[0]


async def borrow(pool: RecognizerPool) -> PooledRecognizer:
    async with pool.lend() as recognizer:
        return recognizer


async def settle() -> None:
    """Let every ready task and callback run (a hand-over comes through call_soon_threadsafe)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_loading_a_model_starts_warming_spare_recognisers(korean_models: SpeechModels) -> None:
    korean_models.get("ko")
    pool = korean_models.dictation("ko")
    assert pool is not None

    assert await asyncio.to_thread(pool.wait_until_warm, 60)

    assert pool.idle >= PoolLimits().keep_idle
    async with pool.lend() as recognizer:
        assert recognizer.warm and recognizer.uses == 0  # warmed by line noise, no caller yet


async def test_overlapping_utterances_get_different_recognisers_and_one_given_back_is_reused(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=1))
    pool.start()
    assert await asyncio.to_thread(pool.wait_until_warm, 60)
    first, second = utterance(espeak, STEADY[0]), utterance(espeak, STEADY[1])

    async with pool.lend() as one, pool.lend() as two:  # two callers speaking at once
        assert one is not two  # the second did not wait for the first: under the limit nobody waits
        texts = await asyncio.gather(one.hear(first), two.hear(second))
    async with pool.lend() as again:
        assert again in (one, two) and again.uses == 1

    assert all(heard.text for heard in texts)
    pool.close()


async def test_a_reused_recogniser_hears_what_a_fresh_one_hears(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    """FinalResult resets the recogniser: nothing of one utterance leaks into the next."""
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0, limit=1))
    audio = [utterance(espeak, text) for text in [*STEADY, STEADY[0]]]

    fresh = [await CallRecognizer(korean_model).transcribe(pcm) for pcm in audio]
    reused = [await pool.transcribe(pcm) for pcm in audio]

    assert reused == fresh
    assert pool.size == 1  # one recogniser heard all five
    pool.close()


async def test_at_the_limit_an_utterance_waits_for_a_recogniser_to_come_back(korean_model: Any) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0, limit=1))

    async with pool.lend() as held:
        waiting = asyncio.create_task(borrow(pool))
        await settle()
        assert not waiting.done()

    assert await waiting is held
    assert pool.size == 1


async def test_a_caller_who_hangs_up_while_waiting_takes_no_recogniser_along(korean_model: Any) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0, limit=1))

    async with pool.lend() as held:
        waiting = asyncio.create_task(borrow(pool))
        await settle()
        waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert await borrow(pool) is held
    assert pool.size == 1


async def test_a_recogniser_is_replaced_after_its_uses(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    # Its lazily built graph grows with every new sentence: after max_uses it is dropped.
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0, max_uses=1))
    pcm = utterance(espeak, STEADY[2])

    async with pool.lend() as first:
        await first.hear(pcm)
    assert pool.size == 0 and pool.idle == 0

    assert await borrow(pool) is not first


async def test_nothing_to_hear_lends_nothing(korean_model: Any) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))
    assert await pool.transcribe(b"") == ""
    assert pool.size == 0


async def test_a_call_that_begins_gets_a_warm_spare_for_its_first_words(korean_model: Any) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))
    pool.start()
    assert pool.size == 0  # no spares kept for nobody

    pool.add_caller()  # a call was answered: its first utterance must not meet a cold recogniser
    assert await asyncio.to_thread(pool.wait_until_warm, 60)

    async with pool.lend() as recognizer:
        assert recognizer.warm
    pool.remove_caller()
    pool.close()


async def test_a_recogniser_left_in_mid_utterance_is_not_lent_again(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    """A call that hung up while its words were being fed: that audio must not reach the next caller."""
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))

    async with pool.lend() as left:
        await left.feed(utterance(espeak, STEADY[0])[:8000])

    assert await borrow(pool) is not left


async def test_dictation_decodes_yield_the_cpu_to_the_calls_audio(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    """Dictation runs on every utterance: on an overloaded core it must wait before prompts stutter."""
    import os
    import threading

    seen: list[int] = []
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))
    async with pool.lend() as recognizer:
        await recognizer.hear(utterance(espeak, STEADY[1]))
        where = threading.get_native_id
        seen.append(await asyncio.get_running_loop().run_in_executor(pool.executor, where))

    assert os.getpriority(os.PRIO_PROCESS, seen[0]) > os.getpriority(os.PRIO_PROCESS, 0)
    pool.close()
