"""The real speech path: espeak-ng Korean audio over G.711, endpointer, Vosk (real model), menu entry."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ivr.call import CONFIRM_BELOW
from ivr.speech.endpointing import Utterance
from ivr.speech.keywords import find_keyword, load_keywords, match_keyword, recognizer_phrases
from ivr.speech.models import UPSAMPLE_OPTION, SpeechModels
from ivr.speech.recognizer import CallRecognizer, Heard, HeardWord
from ivr.speech.synthesis import Speaker
from tests.ivr.speech_audio import as_sipp_sends, endpoint, over_the_phone, silence

KOREAN = load_keywords("ko")
GRAMMAR = recognizer_phrases("ko")  # the keywords plus fillers: the Korean model has no "[unk]"
CASES = [(entry, phrase) for entry, phrases in KOREAN.items() for phrase in phrases]


async def heard(speaker: Speaker, text: str) -> Utterance:
    """What a caller saying the text sends: one utterance found by the endpointer."""
    speech = over_the_phone(await speaker.synthesize(text, "ko"))
    events = endpoint(silence(0.5) + speech + silence(1.0))
    utterances = [event for event in events if isinstance(event, Utterance)]
    assert len(utterances) == 1, f"{text!r}: {len(utterances)} utterances"
    return utterances[0]


def test_every_menu_entry_has_korean_keywords() -> None:
    assert set(KOREAN) == {"tariffs", "order_status", "new_connection", "operator"}


@pytest.mark.parametrize(("entry", "phrase"), CASES, ids=[f"{e}-{p}" for e, p in CASES])
async def test_a_spoken_keyword_selects_its_menu_entry(
    korean_model: Any, speaker: Speaker, entry: str, phrase: str
) -> None:
    utterance = await heard(speaker, phrase)
    recognizer = CallRecognizer(korean_model, phrases=GRAMMAR)

    text = await recognizer.transcribe(utterance.pcm)

    assert match_keyword(text, KOREAN) == entry, f"said {phrase!r}, recognised {text!r}"


@pytest.mark.parametrize("said", ["여보세요", "아니요", "감사합니다"])
async def test_a_caller_saying_something_else_selects_nothing(
    korean_model: Any, speaker: Speaker, said: str
) -> None:
    recognizer = CallRecognizer(korean_model, phrases=GRAMMAR)

    text = await recognizer.transcribe((await heard(speaker, said)).pcm)

    assert match_keyword(text, KOREAN) is None, f"said {said!r}, recognised {text!r}"


async def test_one_recogniser_serves_a_whole_call(korean_model: Any, speaker: Speaker) -> None:
    recognizer = CallRecognizer(korean_model, phrases=GRAMMAR)
    said = ["요금 안내", "주문 확인", "상담원"]

    texts = [await recognizer.transcribe((await heard(speaker, phrase)).pcm) for phrase in said]

    assert [match_keyword(text, KOREAN) for text in texts] == ["tariffs", "order_status", "operator"]


async def test_free_dictation_without_a_grammar_returns_text(korean_model: Any, speaker: Speaker) -> None:
    recognizer = CallRecognizer(korean_model)
    text = await recognizer.transcribe((await heard(speaker, "상담원")).pcm)
    assert text.strip()


def streamed(words: bytes) -> bytes:
    """The one utterance the IVR finds when SIPp streams the words (as the call tests do)."""
    utterances = [event.pcm for event in endpoint(as_sipp_sends(words)) if isinstance(event, Utterance)]
    assert len(utterances) == 1
    return utterances[0]


@pytest.mark.parametrize("phrase", ["요금 안내", "상담원"])
async def test_a_clear_keyword_is_heard_with_full_confidence(
    korean_model: Any, espeak: Callable[..., bytes], phrase: str
) -> None:
    heard = await CallRecognizer(korean_model, phrases=GRAMMAR).hear(streamed(espeak(phrase)))

    found = find_keyword([word.word for word in heard.words], KOREAN)

    assert found is not None, heard
    assert heard.confidence(found.positions) >= CONFIRM_BELOW, heard


# "How much is it?", "I'd like advice". Measured over 20 decodes each: 0.50-0.65 ("operator") and
# 0.33-0.70 ("new_connection" or "operator"); the model dithers its input with random noise, so the
# figures vary from run to run.
@pytest.mark.parametrize("said", ["요금이 궁금해요", "상담하고 싶어요"])
async def test_a_sentence_taken_for_a_menu_choice_is_heard_with_low_confidence(
    korean_model: Any, espeak: Callable[..., bytes], said: str
) -> None:
    """The model has no "[unk]": other speech lands on some keyword, but with low confidence."""
    heard = await CallRecognizer(korean_model, phrases=GRAMMAR).hear(streamed(espeak(said, speed=150)))

    found = find_keyword([word.word for word in heard.words], KOREAN)

    assert found is not None, heard
    assert heard.confidence(found.positions) < CONFIRM_BELOW, heard


def test_the_confidence_of_a_phrase_is_the_mean_of_its_words() -> None:
    heard = Heard((HeardWord("요금", 0.5), HeardWord("안내", 0.7), HeardWord("여보세요", 1.0)))
    assert heard.text == "요금 안내 여보세요"
    assert heard.confidence((0, 1)) == pytest.approx(0.6)
    assert heard.confidence(()) == 0.0


async def test_nothing_to_transcribe_is_empty_text(korean_model: Any) -> None:
    recognizer = CallRecognizer(korean_model, phrases=GRAMMAR)
    assert await recognizer.transcribe(b"") == ""


def test_a_missing_model_gives_none_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = SpeechModels({"ru": tmp_path / "absent"})
    with caplog.at_level(logging.WARNING, logger="ivr.speech.models"):
        assert models.get("ru") is None
        assert models.get("ru") is None
        assert models.get("fa") is None  # not configured at all

    assert models.dictation("ru") is None  # no model, no free-dictation pool
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert "'ru'" in lines[0] and "digits only" in lines[0]
    assert "python -m ivr.speech.download ru" in lines[0]
    assert "'fa'" in lines[1]


async def test_a_model_without_upsampling_is_fixed_and_then_takes_8khz_audio(
    korean_model_dir: Path, speaker: Speaker, tmp_path: Path
) -> None:
    # A copy of the real model whose mfcc.conf lacks the option (large files linked, not copied).
    copy = tmp_path / "ko"
    shutil.copytree(korean_model_dir, copy, copy_function=_link)
    conf = copy / "conf" / "mfcc.conf"
    conf.unlink()
    original = (korean_model_dir / "conf" / "mfcc.conf").read_text()
    conf.write_text("".join(line for line in original.splitlines(keepends=True) if "upsample" not in line))

    model = SpeechModels({"ko": copy}).get("ko")

    assert model is not None
    assert UPSAMPLE_OPTION in conf.read_text().splitlines()
    assert "--num-mel-bins=40" in conf.read_text()  # the rest of the file is kept
    text = await CallRecognizer(model, phrases=GRAMMAR).transcribe((await heard(speaker, "사람")).pcm)
    assert match_keyword(text, KOREAN) == "operator"


def _link(source: str, destination: str) -> None:
    Path(destination).symlink_to(source)


def test_a_broken_model_gives_none_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "ar" / "am").mkdir(parents=True)  # looks like a model, holds nothing

    with caplog.at_level(logging.WARNING, logger="ivr.speech.models"):
        assert SpeechModels({"ar": tmp_path / "ar"}).get("ar") is None

    assert "cannot be loaded" in caplog.text and "python -m ivr.speech.download ar" in caplog.text


async def test_a_keyword_the_model_cannot_know_is_reported(
    korean_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recognizer = CallRecognizer(korean_model, phrases=[*GRAMMAR, "operatorxq"])

    with caplog.at_level(logging.WARNING, logger="ivr.speech.recognizer"):
        await recognizer.transcribe(silence(0.5))

    assert "operatorxq" in caplog.text
