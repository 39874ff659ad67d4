"""Endpointing on real espeak-ng speech: when the caller starts (barge-in) and stops (utterance)."""

from __future__ import annotations

import pytest

from ivr.speech.endpointing import FRAME_BYTES, Endpointer, SpeechStarted, Utterance
from ivr.speech.synthesis import Speaker
from tests.ivr.speech_audio import endpoint, frames, over_the_phone, silence


async def test_silence_is_no_utterance() -> None:
    assert endpoint(silence(5.0)) == []


async def test_speech_then_silence_gives_speech_started_then_one_utterance(speaker: Speaker) -> None:
    speech = over_the_phone(await speaker.synthesize("상담원", "ko"))

    events = endpoint(silence(1.0) + speech + silence(1.0))

    assert [type(event) for event in events] == [SpeechStarted, Utterance]
    utterance = events[1]
    assert isinstance(utterance, Utterance)
    speech_s = len(speech) / 16000
    # The whole word, plus the onset context and the 0.5 s of silence that ended it; not the rest.
    assert speech_s <= utterance.duration_s <= speech_s + 0.9
    assert utterance.duration_s == pytest.approx(len(utterance.pcm) / 16000)


async def test_speech_started_comes_while_the_caller_is_still_speaking(speaker: Speaker) -> None:
    speech = over_the_phone(await speaker.synthesize("요금 안내 요금 안내", "ko"))
    endpointer = Endpointer()
    seen = [endpointer.feed(frame) for frame in frames(silence(0.5) + speech)]

    started_at = next(i for i, event in enumerate(seen) if isinstance(event, SpeechStarted))
    # Within 0.5 s of the speech onset, so a prompt stops as soon as the caller talks over it.
    assert started_at * 0.02 - 0.5 < 0.5
    assert not any(isinstance(event, Utterance) for event in seen)
    assert endpointer.speaking


async def test_two_words_with_a_long_pause_are_two_utterances(speaker: Speaker) -> None:
    word = over_the_phone(await speaker.synthesize("가입", "ko"))

    events = endpoint(silence(0.5) + word + silence(1.0) + word + silence(1.0))

    assert [type(event) for event in events] == [SpeechStarted, Utterance, SpeechStarted, Utterance]


async def test_an_endless_talker_is_cut_at_the_maximum_length(speaker: Speaker) -> None:
    speech = over_the_phone(await speaker.synthesize("요금 안내 주문 확인 신규 가입 상담원 연결", "ko"))

    events = endpoint(speech, Endpointer(max_utterance_s=1.0))

    utterances = [event for event in events if isinstance(event, Utterance)]
    assert utterances
    assert utterances[0].duration_s == pytest.approx(1.0)


async def test_reset_forgets_a_half_heard_utterance(speaker: Speaker) -> None:
    speech = over_the_phone(await speaker.synthesize("상담원", "ko"))
    endpointer = Endpointer()
    for frame in frames(speech):
        endpointer.feed(frame)
    assert endpointer.speaking

    endpointer.reset()

    assert not endpointer.speaking
    assert endpoint(silence(1.0), endpointer) == []


def test_a_frame_of_the_wrong_size_is_refused_with_the_expected_size() -> None:
    with pytest.raises(ValueError, match=str(FRAME_BYTES)):
        Endpointer().feed(b"\0" * 160)
