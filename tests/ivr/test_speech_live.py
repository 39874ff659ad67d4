"""Utterances decoded while they are spoken (real Korean model, espeak-ng audio through G.711)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.speech.endpointing import Endpointer, SpeechStarted
from ivr.speech.keywords import load_keywords, match_keyword, recognizer_phrases
from ivr.speech.live import Listener, Spoken
from ivr.speech.pool import PoolLimits, RecognizerPool
from ivr.speech.recognizer import CallRecognizer
from tests.ivr.speech_audio import frames, over_the_phone, silence

# Free dictation of this gives the same text run after run and however the audio is cut into pieces
# (of some audio it does not: the model's features are dithered with random noise). Said twice: the
# second time on a recogniser the first one left.
SAID = ["인터넷이 안 돼요", "인터넷이 안 돼요"]


def listen(listener: Listener, pcm: bytes) -> list[object]:
    events = [listener.feed(frame) for frame in frames(pcm)]
    return [event for event in events if event is not None]


async def test_words_decoded_while_spoken_are_the_words_of_the_whole_utterance(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0, limit=1))
    grammar = CallRecognizer(korean_model, phrases=recognizer_phrases("ko"))
    listener = Listener(Endpointer(), grammar.utterance, pool.lend, "test")
    audio = b"".join(silence(0.5) + over_the_phone(espeak(text)) + silence(1.0) for text in SAID)

    events = listen(listener, audio)

    assert [type(event) for event in events] == [SpeechStarted, Spoken] * len(SAID)
    for spoken in events[1::2]:
        assert isinstance(spoken, Spoken)
        live = await spoken.dictation.heard()
        whole = await CallRecognizer(korean_model).transcribe(spoken.pcm)
        assert live.text == whole and live.text
    assert pool.size == pool.idle == 1  # one recogniser heard both, and is back
    pool.close()


async def test_a_call_that_ends_mid_utterance_gives_its_recogniser_back(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))
    grammar = CallRecognizer(korean_model, phrases=recognizer_phrases("ko"))
    listener = Listener(Endpointer(), grammar.utterance, pool.lend, "test")
    events = listen(listener, silence(0.5) + over_the_phone(espeak(SAID[0])))  # no silence after
    assert [type(event) for event in events] == [SpeechStarted]
    decoding = listener._decodes
    assert decoding is not None

    listener.close()  # the caller hung up

    assert (await decoding[1].heard()).text  # decoded as far as it came
    assert pool.size == pool.idle == 1
    pool.close()


async def test_a_keyword_decoded_while_spoken_selects_its_menu_entry(
    korean_model: Any, espeak: Callable[..., bytes]
) -> None:
    pool = RecognizerPool(korean_model, limits=PoolLimits(keep_idle=0))
    grammar = CallRecognizer(korean_model, phrases=recognizer_phrases("ko"))
    listener = Listener(Endpointer(), grammar.utterance, pool.lend, "test")

    events = listen(listener, silence(0.5) + over_the_phone(espeak("요금 안내")) + silence(1.0))

    spoken = events[-1]
    assert isinstance(spoken, Spoken)
    heard = await spoken.keywords.heard()
    assert match_keyword(heard.text, load_keywords("ko")) == "tariffs", heard.text
    pool.close()
