"""Callers on a Persian and an Arabic line: the menu, an order's status and an operator, in their language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr.menu import load_menu
from tests.ivr.lines import ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp

MENU = load_menu()


class RecordingSpeaker:
    """The real speaker, noting each text it is asked to say."""

    def __init__(self, speaker: Any) -> None:
        self._speaker = speaker
        self.texts: list[str] = []

    async def synthesize(self, text: str, language: str) -> bytes:
        self.texts.append(text)
        return await self._speaker.synthesize(text, language)


QUEUE = "sip:queue@127.0.0.1:5999"


async def test_a_persian_caller_hears_an_order_status_in_persian_then_reaches_an_operator(
    tmp_path: Path,
) -> None:
    require_sipp()
    caller, number = "+989121234567", "1618033"
    steps = ["pause", "2", "pause:1500", *number, "#", "pause:6000", "0"]
    scenario = call_scenario(tmp_path / "fa.xml", steps, ending="refer")
    settings = ivr_settings(tmp_path, default_language="fa", operator_uri=QUEUE)
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        order = await line.add_order(number)
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": caller, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(f"tel:{caller}")
        assert session is not None and session.language == "fa"
        said = [m.text for m in await line.messages(session.id) if m.direction == "out"]
        status = next(s for s in said if s.startswith("سفارش"))
        # Digit by digit, the tariff's Persian name, the visit day in the Solar Hijri calendar.
        assert "1 6 1 8 0 3 3" in status and "خانگی ۳۰۰" in status
        assert MENU.date_text(order.visit_date, "fa") in status
        tickets = await line.tickets(session.id)
        assert [(t.status, t.language) for t in tickets] == [("queued", "fa")]
        assert tickets[0].card["session"]["language"] == "fa"
        assert tickets[0].summary == "تماس‌گیرنده در منوی تلفنی اپراتور خواست."  # the operator's line


async def test_an_arabic_caller_hears_the_tariffs_in_arabic(tmp_path: Path) -> None:
    require_sipp()
    scenario = call_scenario(tmp_path / "ar.xml", ["pause", "1", "pause:15000"])
    settings = ivr_settings(tmp_path, default_language="ar")
    async with running_ivr(settings) as line, rtp_recorder() as (recorder, sink):
        line.ivr.deps.speaker = speaker = RecordingSpeaker(line.ivr.deps.speaker)
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": "+971501234567", "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of("tel:+971501234567")
        assert session is not None and session.language == "ar"
        said = " ".join(m.text for m in await line.messages(session.id) if m.direction == "out")
        assert "المنزل 300" in said and "دولار أمريكي" in said and "USD" not in said
    # "Home 300 + Mobile" is read with an Arabic word: espeak-ng says "+" as English "plus".
    assert any("المنزل 300 مَعَ موبايل" in text for text in speaker.texts)
    assert not any("+" in text for text in speaker.texts)
    assert any(s.duration_s > 5.0 and s.loudness > 300 for s in recorder.talkspurts)  # read out in full
