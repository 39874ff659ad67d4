"""Warm free-dictation recognisers per speech model, shared by all calls and lent for one utterance."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import struct
import threading
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ivr.speech.errors import SpeechError
from ivr.speech.recognizer import Decoder, Feed, Heard, new_recognizer

logger = logging.getLogger(__name__)

# Measured on the small Korean model: a fresh free recogniser decodes its first utterance in about
# 1.1 s (later ones 0.07-0.14 s) because it builds its lazily composed graph as it goes. About half
# of that is the same for any audio, so one decode of faint line noise takes it off the first caller;
# the rest depends on the words, and shrinks as a recogniser serves more utterances: hence a pool.
# Warming on speech (the menu phrases rendered by espeak-ng) was tried: a spare then holds 44-46 MB
# instead of 16-20 MB, and 4 free-speech calls gained no clear latency (bench/ivr, 2 runs each).
WARM_UP_S = 1.0
WARM_UP_LEVEL = 30  # samples' amplitude: hiss, not speech
WARM_NICENESS = 10  # warm-ups yield the CPU to live decoding (a thread's niceness on Linux)
# Dictation runs on every utterance, menu keywords included, while the grammar recogniser usually
# answers: below the event loop (which sends every call's audio) and the keyword decodes, so an
# overloaded core delays free-speech replies before it breaks up anyone's prompt.
DECODE_NICENESS = 5


@dataclass(frozen=True)
class PoolLimits:
    """How many free-dictation recognisers one model keeps (each about 20 MB warm, more with use)."""

    keep_idle: int = 2  # warm spares ready for the next utterances, topped up in the background
    max_idle: int = 4  # a recogniser that comes back to this many spares is dropped
    limit: int = 8  # in all (lent, spare, warming); above it an utterance waits for one to come back
    # Then a recogniser is replaced: its graph cache only grows (measured: 22 MB warm, 143 MB after 20
    # different sentences), while its decoding gets faster (real-time factor 0.4-0.57 -> 0.1-0.2).
    max_uses: int = 20


class PooledRecognizer(Feed):
    """One free-dictation recogniser; lent by the pool for an utterance (fed as it is spoken, or
    heard whole), then given back."""

    def __init__(self, pool: RecognizerPool) -> None:
        # Built on first use, in a worker thread.
        super().__init__(Decoder(lambda: new_recognizer(pool.model, pool.sample_rate)), pool.executor)
        self._pool = pool
        self.uses = 0  # utterances decoded (the warm-up is not one)
        self.warm = False

    async def hear(self, pcm: bytes) -> Heard:
        """One whole utterance; its FinalResult leaves the recogniser clean for the next borrower."""
        if not pcm:
            return Heard()
        return await self.finish(pcm)

    async def finish(self, pcm: bytes = b"") -> Heard:
        heard = await super().finish(pcm)
        self.uses += 1
        return heard

    def warm_up(self) -> None:
        """Build the recogniser and decode a stretch of line noise (blocking: call it in a thread)."""
        self.decoder.finish(_line_noise(WARM_UP_S))
        self.warm = True

    @property
    def spent(self) -> bool:
        """Not to be lent again: it failed, was left in mid-utterance, or has served its uses."""
        return self.decoder.failed or self.open or self.uses >= self._pool.limits.max_uses


_Waiter = asyncio.Future[PooledRecognizer | None]  # None: a free place under the limit


class RecognizerPool:
    """Free-dictation recognisers of one model: created ahead, warmed, lent per utterance, reused.

    Under the limit nobody waits (with no spare, a cold recogniser is built for the utterance);
    at the limit an utterance waits for one to be given back.
    """

    def __init__(
        self,
        model: Any,
        *,
        limits: PoolLimits | None = None,
        sample_rate: int = 8000,
        executor: Executor | None = None,
    ) -> None:
        self.model = model
        self.limits = limits or PoolLimits()
        self.sample_rate = sample_rate
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(
            self.limits.limit, "vosk-dictation", initializer=_lower_priority, initargs=(DECODE_NICENESS,)
        )
        self._idle: list[PooledRecognizer] = []
        self._count = 0  # recognisers in existence: lent, idle or warming
        self._warming = 0
        self._callers = 0  # calls in progress that may speak freely
        self._waiters: deque[_Waiter] = deque()
        self._lock = threading.Lock()  # taken on the loop and in worker threads, never held long
        self._changed = threading.Condition(self._lock)
        self._closed = False
        self._warm_failed = False
        self._warmer = ThreadPoolExecutor(
            1, "vosk-warm", initializer=_lower_priority, initargs=(WARM_NICENESS,)
        )

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def size(self) -> int:
        return self._count

    def start(self) -> None:
        """Begin warming the spares in the background; returns at once."""
        with self._lock:
            self._top_up()

    def add_caller(self) -> None:
        """A call began: warm a spare for it now, so its first utterance finds one warm."""
        with self._lock:
            self._callers += 1
            self._top_up()

    def remove_caller(self) -> None:
        with self._lock:
            self._callers = max(0, self._callers - 1)

    def wait_until_warm(self, timeout: float) -> bool:
        """Block until no warm-up is running (start-up, tests); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._warming == 0, timeout)

    async def transcribe(self, pcm: bytes) -> str:
        """The final text of one utterance, on a lent recogniser."""
        return (await self.hear(pcm)).text

    async def hear(self, pcm: bytes) -> Heard:
        if not pcm:
            return Heard()
        async with self.lend() as recognizer:
            return await recognizer.hear(pcm)

    @contextlib.asynccontextmanager
    async def lend(self) -> AsyncIterator[PooledRecognizer]:
        """A recogniser for one utterance, given back on leaving the block."""
        recognizer = await self._acquire()
        try:
            yield recognizer
        finally:
            self._give_back(recognizer)

    def close(self) -> None:
        """Drop the spares and stop warming; recognisers still lent are dropped when they come back."""
        with self._lock:
            self._closed = True
            self._count -= len(self._idle)
            self._idle.clear()
        self._warmer.shutdown(wait=False, cancel_futures=True)
        if self._own_executor:  # decodes under way finish; their recognisers are dropped on return
            self.executor.shutdown(wait=False)

    # --- lending -------------------------------------------------------------------------------

    async def _acquire(self) -> PooledRecognizer:
        with self._lock:
            if self._closed:
                raise SpeechError("the recogniser pool is closed")
            if self._idle:
                recognizer = self._idle.pop()
                self._top_up()
                return recognizer
            if self._count < self.limits.limit:
                self._count += 1
                return PooledRecognizer(self)  # cold: built by its first decode, nobody waits
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just as the caller gave up
                self._give_back(waiter.result())
            raise
        return handed or PooledRecognizer(self)  # None: a place under the limit, not a recogniser

    def _give_back(self, recognizer: PooledRecognizer | None) -> None:
        """To the first waiting utterance, else to the spares; None gives back a place under the limit."""
        with self._lock:
            if recognizer is not None and (recognizer.spent or self._closed):
                recognizer = None  # dropped: its memory goes with the last reference
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.done():
                    continue
                try:
                    waiter.get_loop().call_soon_threadsafe(self._hand_over, waiter, recognizer)
                except RuntimeError:  # that waiter's event loop is closed
                    continue
                return
            if recognizer is not None and len(self._idle) < self.limits.max_idle:
                # Lent last-in first-out, so a fresh one goes to the bottom: a used one's cache is fuller.
                self._idle.insert(0 if recognizer.uses == 0 else len(self._idle), recognizer)
            else:
                self._count -= 1
            self._top_up()
            self._changed.notify_all()

    def _hand_over(self, waiter: _Waiter, item: PooledRecognizer | None) -> None:
        if waiter.done():  # that caller hung up while it waited: the next one gets it
            self._give_back(item)
        else:
            waiter.set_result(item)

    # --- warming -------------------------------------------------------------------------------

    def _top_up(self) -> None:
        """Start warm-ups until the spares (and those warming) are as many as wanted; the lock is held."""
        if self._closed or self._warm_failed:
            return
        while len(self._idle) + self._warming < self._wanted_idle() and self._count < self.limits.limit:
            self._count += 1
            self._warming += 1
            self._warmer.submit(self._warm_one)

    def _wanted_idle(self) -> int:
        """keep_idle, or one for each call not holding a recogniser now (up to max_idle) if that is more."""
        lent = self._count - len(self._idle) - self._warming
        return max(self.limits.keep_idle, min(self._callers - lent, self.limits.max_idle))

    def _warm_one(self) -> None:
        recognizer = PooledRecognizer(self)
        try:
            recognizer.warm_up()
        except Exception:  # a model that cannot decode: calls find out themselves, no retry loop here
            logger.exception("a free-dictation recogniser could not be warmed up; no more warm-ups")
            with self._lock:
                self._warm_failed = True
        with self._lock:
            self._warming -= 1
        self._give_back(recognizer if recognizer.warm else None)


def _line_noise(seconds: float) -> bytes:
    """Faint, fixed noise: what a quiet phone line carries."""
    rng = random.Random(0)
    count = int(seconds * 8000)
    return struct.pack(f"<{count}h", *(rng.randint(-WARM_UP_LEVEL, WARM_UP_LEVEL) for _ in range(count)))


def _lower_priority(niceness: int) -> None:
    # Linux keeps a niceness per thread: this lowers only the pool's own thread, not the process.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
