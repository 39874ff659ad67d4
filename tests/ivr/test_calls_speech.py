"""A caller speaks a menu keyword (real Korean Vosk model, espeak-ng speech sent by SIPp as RTP)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ivr.dtmf import tone_pcm
from ivr.menu import ENTRIES, Menu
from ivr.speech.models import SpeechModels
from tests.chat import running_front_line
from tests.ivr.lines import IvrLine, event_detail, ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp
from tests.ivr.speech_audio import sipp_wav

CALLER = "+15550133"
QUEUE = "sip:queue@127.0.0.1:5999"
# No menu entry in it ("I wonder how much it costs"), yet the model (no "[unk]") takes it for
# "operator", unsurely: 0.50-0.65 (tests/ivr/test_speech_recognition.py checks the figure).
DOUBTFUL = "요금이 궁금해요"


def confirmations(menu: Menu) -> dict[str, str]:
    """The "did you ask for ...?" prompt of each menu entry (Korean calls hear the default language)."""
    return {entry: menu.text("confirm_choice", "ko", choice=menu.choice(entry, "ko")) for entry in ENTRIES}


async def test_spoken_keyword_interrupts_the_greeting_and_picks_the_entry(
    tmp_path: Path, korean_model_dir: Path, speaker: Any
) -> None:
    require_sipp()
    utterance = sipp_wav(tmp_path / "tariffs.wav", await speaker.synthesize("요금 안내", "ko"))
    steps = ["pause:2500", f"stream:{utterance}", "pause:9000"]
    scenario = call_scenario(tmp_path / "speech.xml", steps)
    settings = ivr_settings(tmp_path, default_language="ko", model_dirs={"ko": str(korean_model_dir)})
    async with running_ivr(settings) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None and session.language == "ko"
        messages = await line.messages(session.id)
        heard = [(m.text, (m.payload or {}).get("menu")) for m in messages if m.direction == "in"]
        assert heard == [("요금 안내", "tariffs")]
        assert any("Home 300" in m.text for m in messages if m.direction == "out")
        # A clear keyword acts at once: nobody is asked "did you ask for ...?".
        log = line.ivr.calls[-1].log
        assert not set(log) & set(confirmations(line.ivr.deps.menu).values()), log
    # The greeting stopped when the caller spoke (barge-in), then the tariffs were read.
    spurts = recorder.talkspurts
    assert len(spurts) >= 2 and spurts[0].duration_s < 5.0, [s.duration_s for s in spurts]


def then_key(words: bytes, key: str, at_s: float) -> bytes:
    """The words, then the key as an in-band tone at_s seconds into the stream (after sipp_wav's
    0.5 s of silence). SIPp's RFC 4733 digits come from another port than its rtp_stream, and the
    IVR takes media from one source port only; a tone shorter than 200 ms is a key, not speech."""
    gap = int((at_s - 0.5) * 8000) * 2 - len(words)
    assert gap > 0
    return words + b"\x00\x00" * (gap // 2) + tone_pcm(key, 0.12, amplitude=6000)


@asynccontextmanager
async def doubtful_call(
    tmp_path: Path,
    korean_model_dir: Path,
    espeak: Callable[..., bytes],
    key: str,
    ending: str,
    **ivr: object,
) -> AsyncIterator[tuple[IvrLine, list[str]]]:
    """A call that says DOUBTFUL over the greeting, then presses the key during "did you ask for ...?"."""
    require_sipp()
    words = then_key(espeak(DOUBTFUL, speed=150), key, at_s=6.5)
    utterance = sipp_wav(tmp_path / "doubtful.wav", words)
    steps = ["pause:2500", f"stream:{utterance}"] + (["pause:12000"] if ending == "bye" else [])
    scenario = call_scenario(tmp_path / "doubtful.xml", steps, ending=ending, payloads="0")  # tones only
    settings = ivr_settings(
        tmp_path,
        default_language="ko",
        model_dirs={"ko": str(korean_model_dir)},
        operator_uri=QUEUE,
        **ivr,
    )
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        await line.ivr.deps.models.aget("ko")  # loaded before the call, so the call's timing is known
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        yield line, line.ivr.calls[-1].log


async def test_a_doubtful_spoken_choice_is_confirmed_first_and_2_goes_back_to_the_menu(
    tmp_path: Path, korean_model_dir: Path, espeak: Callable[..., bytes]
) -> None:
    async with doubtful_call(tmp_path, korean_model_dir, espeak, "2", ending="bye") as (line, log):
        menu = line.ivr.deps.menu
        asked = confirmations(menu)["operator"]
        assert asked in log, log
        # After "2": the menu again, and no transfer.
        after = log[log.index(asked) + 1 :]
        assert after and after[0].startswith(menu.text("menu", "ko")), log
        assert menu.text("transferring", "ko") not in log, log
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None
        assert [m for m in await line.messages(session.id) if m.direction == "in"] == []
        assert await line.tickets(session.id) == []


async def test_a_doubtful_spoken_choice_confirmed_with_1_is_acted_on(
    tmp_path: Path, korean_model_dir: Path, espeak: Callable[..., bytes]
) -> None:
    async with doubtful_call(tmp_path, korean_model_dir, espeak, "1", ending="refer") as (line, log):
        menu = line.ivr.deps.menu
        assert confirmations(menu)["operator"] in log, log
        assert menu.text("transferring", "ko") in log, log
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None
        messages = await line.messages(session.id)
        assert [(m.payload or {}).get("menu") for m in messages if m.direction == "in"] == ["operator"]
        tickets = await line.tickets(session.id)
        assert [(t.status, t.reason) for t in tickets] == [("queued", "customer_request")]


async def test_a_centre_that_sets_the_confirm_threshold_to_0_acts_on_every_spoken_choice(
    tmp_path: Path, korean_model_dir: Path, espeak: Callable[..., bytes]
) -> None:
    """FRONTLINE_IVR__CONFIRM_BELOW: a centre whose own model is sure enough can turn confirming off."""
    calls = doubtful_call(tmp_path, korean_model_dir, espeak, "1", ending="refer", confirm_below=0.0)
    async with calls as (line, log):
        menu = line.ivr.deps.menu
        assert confirmations(menu)["operator"] not in log, log
        assert menu.text("transferring", "ko") in log, log


async def test_a_caller_who_hangs_up_while_the_speech_model_loads_is_on_record(
    tmp_path: Path, korean_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start-up a model takes seconds to load (longer on a busy machine): the call's session is
    opened first, so a caller who gives up meanwhile is not lost."""
    require_sipp()
    loading = threading.Event()
    load = SpeechModels._load

    def held_load(self: SpeechModels, language: str) -> Any:
        loading.wait(60)
        return load(self, language)

    monkeypatch.setattr(SpeechModels, "_load", held_load)
    scenario = call_scenario(tmp_path / "gives_up.xml", ["pause:1500"])
    settings = ivr_settings(tmp_path, default_language="ko", model_dirs={"ko": str(korean_model_dir)})
    async with running_front_line(settings) as front, rtp_recorder() as (_, sink):
        line = IvrLine(front, front.app.state.ivr, front.app.state.ivr.endpoint.port)
        try:
            keys = {"caller": CALLER, "sink_port": str(sink)}
            run = await run_sipp(scenario, line.sip_port, tmp_path, keys=keys)
            assert run.ok, run.output + run.errors
            session = await line.session_of(f"tel:{CALLER}")
            assert session is not None
            assert await event_detail(line, session.id, "closed") == {"by": "caller_hung_up"}
        finally:
            loading.set()
