"""Utterances decoded while the caller speaks them, so that at the end only the final result is left."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from ivr.speech.endpointing import Endpointer, SpeechStarted, Utterance
from ivr.speech.recognizer import Feed, Heard

logger = logging.getLogger(__name__)

# Audio is handed to the worker thread in pieces of at least 0.2 s (fewer thread hops); a backlog
# (a recogniser that came late, a busy core) goes in one piece.
MIN_FEED_BYTES = 3200

# Opens a recogniser for one utterance: a pool's lend, a call recogniser's utterance.
Opener = Callable[[], AbstractAsyncContextManager[Feed]]


class LiveDecode:
    """One utterance fed to a recogniser as it arrives, in a worker thread; its words once it ends.

    The decode always runs to its end (and gives its recogniser back clean), wanted or not.
    """

    def __init__(self, opener: Opener, name: str) -> None:
        self._audio: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: the utterance ended
        self._task = asyncio.create_task(self._decode(opener), name=name)
        self._task.add_done_callback(_report_failure)

    def feed(self, pcm: bytes) -> None:
        self._audio.put_nowait(pcm)

    def end(self) -> None:
        self._audio.put_nowait(None)

    async def heard(self) -> Heard:
        """The words, once end() was called and the last audio decoded (raises SpeechError)."""
        return await asyncio.shield(self._task)  # a caller who stops waiting leaves the decode running

    async def _decode(self, opener: Opener) -> Heard:
        async with opener() as recognizer:
            while True:
                pcm, ended = await self._next()
                if ended:
                    return await recognizer.finish(pcm)
                await recognizer.feed(pcm)

    async def _next(self) -> tuple[bytes, bool]:
        """The audio that came since the last feed, and whether the utterance has ended."""
        pcm = b""
        while True:
            piece = await self._audio.get()
            if piece is None:
                return pcm, True
            pcm += piece
            if len(pcm) >= MIN_FEED_BYTES and self._audio.empty():
                return pcm, False


@dataclass(frozen=True)
class Spoken:
    """One utterance as the call flow gets it: the audio, and its words as the call's grammar
    recogniser (menu keywords) and a free-dictation recogniser hear them."""

    pcm: bytes
    keywords: LiveDecode
    dictation: LiveDecode


class Listener:
    """A call's ear: the endpointer on 20 ms frames, each utterance decoded while it is spoken."""

    def __init__(self, endpointer: Endpointer, keywords: Opener, dictation: Opener, name: str) -> None:
        self._endpointer = endpointer
        self._openers = (keywords, dictation)
        self._name = name
        self._decodes: tuple[LiveDecode, LiveDecode] | None = None  # of the utterance under way

    def feed(self, frame: bytes) -> SpeechStarted | Spoken | None:
        event = self._endpointer.feed(frame)
        if isinstance(event, SpeechStarted):
            self._decodes = self._start(event.onset)
        elif self._decodes is not None:
            for decode in self._decodes:
                decode.feed(frame)  # the frame that ends an utterance is part of it, too
        if isinstance(event, Utterance):
            return self._end(event)
        return event

    def close(self) -> None:
        """The call is over: an utterance under way is decoded as far as it came (its recognisers go back)."""
        if self._decodes is not None:
            for decode in self._decodes:
                decode.end()
            self._decodes = None

    def _start(self, onset: bytes) -> tuple[LiveDecode, LiveDecode]:
        keywords, dictation = (LiveDecode(open_, f"{kind}-{self._name}") for open_, kind in
                               zip(self._openers, ("keywords", "dictation"), strict=True))  # fmt: skip
        for decode in (keywords, dictation):
            decode.feed(onset)
        return keywords, dictation

    def _end(self, utterance: Utterance) -> Spoken:
        assert self._decodes is not None  # an utterance always follows its SpeechStarted
        keywords, dictation = self._decodes
        self._decodes = None
        keywords.end()
        dictation.end()
        return Spoken(utterance.pcm, keywords, dictation)


def _report_failure(task: asyncio.Task[Heard]) -> None:
    # Read here so that a decode nobody waited for does not fail unseen.
    if not task.cancelled() and task.exception() is not None:
        logger.warning("live decoding failed (%s): %s", task.get_name(), task.exception())
