"""How a call plays what it says: a long reply starts while its later sentences still render."""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

from ivr.call import Call, CallDeps, CallSettings
from ivr.menu import load_menu
from ivr.rtp import PortRange
from ivr.speech.synthesis import Speaker
from tests.ivr.peers import rtp_recorder

REPLY = "Your order is on its way. The technician comes on Monday between nine and twelve."


class HeldSecondSentence:
    """The real speaker, but the reply's second sentence renders only once the test lets it."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        self.release = asyncio.Event()
        self.asked: list[str] = []

    async def synthesize(self, text: str, language: str) -> bytes:
        self.asked.append(text)
        if text.startswith("The technician"):
            await self.release.wait()
        return await self.speaker.synthesize(text, language)


async def test_a_reply_starts_before_the_whole_reply_is_synthesised(speaker: Speaker) -> None:
    held = HeldSecondSentence(speaker)
    settings = CallSettings(language="en", operator_uri=None, no_input_timeout_s=5, silence_timeout_s=20)
    deps = CallDeps(menu=load_menu(), contacts=None, speaker=held, settings=settings)  # type: ignore[arg-type]
    low = random.randrange(20000, 40000, 2)
    rtp = await PortRange(low, low + 20).open("127.0.0.1")
    async with rtp_recorder() as (recorder, sink):
        rtp.set_remote("127.0.0.1", sink, "PCMU", 0)
        leg = SimpleNamespace(
            rtp=rtp, caller="+15550100", caller_verified=False, call_id="prompts-test", dtmf_events=True
        )
        playing = asyncio.create_task(Call(leg, deps)._play(REPLY))  # type: ignore[arg-type]
        async with asyncio.timeout(30):
            while recorder.packets < 5:
                await asyncio.sleep(0.02)
        # The caller hears the first sentence while the second has not been rendered yet.
        assert not held.release.is_set() and not playing.done()

        held.release.set()
        await playing
    rtp.close()

    assert len(held.asked) == 2
    first, second = [await speaker.synthesize(text, "en") for text in held.asked]
    frames = sum(len(spurt.frames) for spurt in recorder.talkspurts)
    assert frames == -(-len(first) // 320) + -(-len(second) // 320)  # both sentences, whole
