"""Prompts spoken by espeak-ng through pyttsx3, as 8 kHz 16-bit mono PCM for the phone line.

espeak-ng keeps one global synthesis callback per process, and pyttsx3's driver installs its own:
two engines in two threads overwrite each other's callback (it crashed 4 times in 5 here). So the
process has ONE engine, created and used only on one dedicated thread, fed by a queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import io
import logging
import queue
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ivr.speech.errors import SynthesisError
from ivr.speech.wav import PHONE_RATE, read_wav, resample

logger = logging.getLogger(__name__)

# espeak-ng resolves a language code to its default voice for that language (espeak-ng 1.51).
DEFAULT_VOICES = {"en": "en-us", "ru": "ru", "ar": "ar", "fa": "fa", "ko": "ko"}
CACHE_SIZE = 512


class _EngineThread:
    """The one thread that owns the pyttsx3 engine; jobs arrive on a queue."""

    _instance: _EngineThread | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], bytes], concurrent.futures.Future[bytes]]] = (
            queue.Queue()
        )
        # A daemon: the engine lives as long as the process (espeak-ng cannot be initialised twice).
        self._thread = threading.Thread(target=self._run, name="tts-espeak", daemon=True)
        self._thread.start()

    @classmethod
    def shared(cls) -> _EngineThread:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def submit(self, job: Callable[[Any], bytes]) -> concurrent.futures.Future[bytes]:
        future: concurrent.futures.Future[bytes] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        engine: Any = None
        init_error: BaseException | None = None
        try:
            import pyttsx3

            engine = pyttsx3.init("espeak")
        except Exception as exc:  # reported on every job: the prompts cannot be spoken at all
            init_error = exc
            logger.error("espeak-ng through pyttsx3 cannot start: %s", exc)
        while True:
            job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            if init_error is not None:
                future.set_exception(SynthesisError(f"espeak-ng is not available: {init_error}"))
                continue
            try:
                future.set_result(job(engine))
            except Exception as exc:
                future.set_exception(exc)


_known_voices: set[str] = set()  # touched only on the engine thread


def _check_voice(engine: Any, voice: str) -> None:
    # pyttsx3 applies a voice inside runAndWait and swallows espeak-ng's refusal there (the old
    # voice would read the text), so the name is checked against the voice list first.
    if not _known_voices:
        for known in engine.getProperty("voices"):
            _known_voices.update({known.id, known.id.rsplit("/", 1)[-1], *known.languages})
    if voice.lower() not in _known_voices:
        raise SynthesisError(f"espeak-ng has no voice {voice!r}")


def _render(engine: Any, text: str, voice: str) -> bytes:
    """Runs on the engine thread: text -> 8 kHz PCM."""
    _check_voice(engine, voice)
    # Not set here: the rate. Setting it before each render made about 1 render in 700 come out
    # empty; without it a voice file's "speed" (Russian: 95%) carries over to the next voice.
    engine.setProperty("voice", voice)
    for _attempt in range(2):  # an empty render is rare and does not repeat: try once more
        pcm, source_rate = _render_wav(engine, text)
        if pcm:
            return resample(pcm, source_rate, PHONE_RATE)
        logger.warning("espeak-ng rendered no audio for a %d-character text (voice %s)", len(text), voice)
    raise SynthesisError(f"espeak-ng produced empty audio for {text!r} with voice {voice!r}")


def _render_wav(engine: Any, text: str) -> tuple[bytes, int]:
    with tempfile.TemporaryDirectory(prefix="tts-") as tmp:
        path = Path(tmp) / "prompt.wav"
        engine.save_to_file(text, str(path))
        # pyttsx3 2.99 prints "Audio saved to ..." on stdout; a server's stdout is not for that.
        with contextlib.redirect_stdout(io.StringIO()):
            engine.runAndWait()
        if not path.exists():
            raise SynthesisError(f"espeak-ng produced no audio file for {text!r}")
        return read_wav(path)


class Speaker:
    """pyttsx3 on espeak-ng, owned by ONE thread for the whole process (two engines in two threads crash)."""

    def __init__(self, voices: dict[str, str] | None = None) -> None:
        self._voices = {**DEFAULT_VOICES, **(voices or {})}
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # Renders under way, shared by concurrent asks for the same prompt (loop-independent futures).
        self._pending: dict[tuple[str, str], concurrent.futures.Future[bytes]] = {}
        self._lock = threading.Lock()  # the cache is also written from the engine thread
        self._closed = False

    def voice_for(self, language: str) -> str:
        # An unknown language is tried as an espeak-ng voice name: it knows about 130 of them.
        return self._voices.get(language, language)

    async def synthesize(self, text: str, language: str) -> bytes:
        """8 kHz 16-bit mono PCM of the text in the language's voice, cached by (text, language)."""
        if self._closed:
            raise SynthesisError("the speaker is closed")
        text = text.strip()
        if not text:
            return b""
        key = (text, language)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            job = self._pending.get(key)
            created = job is None
            if job is None:
                voice = self.voice_for(language)
                job = _EngineThread.shared().submit(lambda engine: _render(engine, text, voice))
                self._pending[key] = job
        if created:  # outside the lock: a finished job runs its callback at once, in this thread
            job.add_done_callback(lambda done: self._finish(key, done))
        # shield: a caller that stops waiting (barge-in) must not cancel a render others wait for.
        return await asyncio.shield(asyncio.wrap_future(job))

    def _finish(self, key: tuple[str, str], job: concurrent.futures.Future[bytes]) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if self._closed or job.cancelled() or job.exception() is not None:
                return  # a failure is not cached: the next ask tries again
            self._cache[key] = job.result()
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def close(self) -> None:
        """Drop this speaker's cache; the engine thread stays for the process (espeak-ng inits once)."""
        with self._lock:
            self._closed = True
            self._cache.clear()


def espeak_available() -> bool:
    """Whether the espeak-ng library that pyttsx3 drives can be loaded (Debian: espeak-ng)."""
    for name in ("libespeak-ng.so.1", "libespeak-ng.1.dylib", "libespeak-ng.dll"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False
