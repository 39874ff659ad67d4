"""Speech to text: one utterance through a Vosk recogniser in a worker thread, words with confidences."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ivr.speech.errors import SpeechError

logger = logging.getLogger(__name__)

UNKNOWN = "[unk]"
CHUNK_BYTES = 8000  # 0.5 s at 8 kHz: Vosk decodes as it is fed, the size only bounds each call
_reported_missing: set[str] = set()


@dataclass(frozen=True)
class HeardWord:
    word: str
    confidence: float  # Vosk's posterior, 0..1; 1.0 where the recogniser reports none (free dictation)


@dataclass(frozen=True)
class Heard:
    """What a recogniser made of one utterance."""

    words: tuple[HeardWord, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(word.word for word in self.words)

    def confidence(self, positions: Iterable[int]) -> float:
        """The mean confidence of the words at these positions (0.0 for none: nothing was heard)."""
        values = [self.words[i].confidence for i in positions]
        return sum(values) / len(values) if values else 0.0


class CallRecognizer:
    """One per call (cheap with a grammar); runs Vosk in a worker thread so the event loop never blocks."""

    def __init__(
        self,
        model: Any,
        *,
        sample_rate: int = 8000,
        phrases: Sequence[str] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self._model = model
        self._rate = sample_rate
        self._phrases = list(phrases) if phrases else None
        self._executor = executor  # None: the loop's default pool
        self._decoder = Decoder(self._new_recognizer)
        self._lock = asyncio.Lock()  # one utterance at a time: a Kaldi recogniser is not re-entrant

    async def transcribe(self, pcm: bytes) -> str:
        """The final text of one utterance ("" when nothing was recognised)."""
        return (await self.hear(pcm)).text

    async def hear(self, pcm: bytes) -> Heard:
        """The words of one utterance, each with its confidence."""
        if not pcm:
            return Heard()
        async with self.utterance() as utterance:
            return await utterance.finish(pcm)

    @contextlib.asynccontextmanager
    async def utterance(self) -> AsyncIterator[Feed]:
        """The recogniser for one utterance fed as it is spoken (see ivr.speech.live)."""
        async with self._lock:
            feed = Feed(self._decoder, self._executor)
            try:
                yield feed
            finally:
                if feed.open:  # left in the middle: the next utterance starts on a clean one
                    self._decoder = Decoder(self._new_recognizer)

    def _new_recognizer(self) -> Any:
        # Built lazily in the worker thread: compiling a grammar takes a moment.
        if self._phrases is None:
            return new_recognizer(self._model, self._rate)
        grammar = json.dumps(grammar_for(self._model, self._phrases), ensure_ascii=False)
        return new_recognizer(self._model, self._rate, grammar)


class Decoder:
    """A Vosk recogniser fed an utterance piece by piece (blocking: call it in a worker thread).

    Vosk decodes as it is fed, so feeding while the caller speaks leaves only finish() for the end;
    its FinalResult also resets the recogniser for the next utterance.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._recognizer: Any = None  # built on first use
        self._results: list[dict[str, Any]] = []  # of endpoints Vosk found inside the utterance
        self._lock = threading.Lock()  # one step at a time, even one left running by a hung-up call
        self.failed = False  # a step raised: the next utterance gets a fresh recogniser

    def feed(self, pcm: bytes) -> None:
        with self._lock, self._guard():
            self._results += _accept(self._ensure(), pcm)

    def finish(self, pcm: bytes = b"") -> Heard:
        with self._lock, self._guard():
            recognizer = self._ensure()
            results = [*self._results, *_accept(recognizer, pcm), _final(recognizer)]
            self._results = []
        return _heard(results)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except Exception:  # its state after a failed step is unknown
            self._recognizer, self._results, self.failed = None, [], True
            raise

    def _ensure(self) -> Any:
        if self._recognizer is None:
            self._recognizer = self._build()
        return self._recognizer


class Feed:
    """A Decoder driven from the event loop: each step runs in a worker thread."""

    def __init__(self, decoder: Decoder, executor: Executor | None) -> None:
        self.decoder = decoder
        self._executor = executor
        # Part of an utterance fed and not finished; set before the worker runs, so a recogniser
        # given up in the middle (a call that hung up) is known to hold stale audio.
        self.open = False

    async def feed(self, pcm: bytes) -> None:
        self.open = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self.decoder.feed, pcm)

    async def finish(self, pcm: bytes = b"") -> Heard:
        self.open = True
        loop = asyncio.get_running_loop()
        heard = await loop.run_in_executor(self._executor, self.decoder.finish, pcm)
        self.open = False
        return heard


def new_recognizer(model: Any, sample_rate: int, grammar: str | None = None) -> Any:
    """A Vosk recogniser; a grammar one reports each word's confidence (menu choices are checked by it)."""
    from vosk import KaldiRecognizer

    if grammar is None:
        return KaldiRecognizer(model, sample_rate)
    recognizer = KaldiRecognizer(model, sample_rate, grammar)
    recognizer.SetWords(True)
    return recognizer


def decode(recognizer: Any, pcm: bytes) -> Heard:
    """One whole utterance; FinalResult at the end also resets the recogniser for the next one."""
    return _heard([*_accept(recognizer, pcm), _final(recognizer)])


def _accept(recognizer: Any, pcm: bytes) -> list[dict[str, Any]]:
    results = []
    try:
        for start in range(0, len(pcm), CHUNK_BYTES):
            # True: Vosk found an endpoint of its own inside the utterance; keep that part.
            if recognizer.AcceptWaveform(pcm[start : start + CHUNK_BYTES]):
                results.append(json.loads(recognizer.Result()))
    except Exception as exc:  # vosk raises bare Exception (e.g. 8 kHz audio, no upsampling)
        raise SpeechError(f"Vosk could not decode the audio: {exc}") from exc
    return results


def _final(recognizer: Any) -> dict[str, Any]:
    try:
        return dict(json.loads(recognizer.FinalResult()))
    except Exception as exc:
        raise SpeechError(f"Vosk could not decode the audio: {exc}") from exc


def _heard(results: list[dict[str, Any]]) -> Heard:
    words = [word for result in results for word in _words(result)]
    return Heard(tuple(word for word in words if word.word != UNKNOWN))


def _words(result: dict[str, Any]) -> list[HeardWord]:
    if "result" in result:  # with SetWords(True)
        return [HeardWord(item["word"], float(item.get("conf", 1.0))) for item in result["result"]]
    return [HeardWord(word, 1.0) for word in result.get("text", "").split()]


def grammar_for(model: Any, phrases: Sequence[str]) -> list[str]:
    """The phrases plus "[unk]" (so that other speech need not be forced onto a phrase).

    Words the model does not know are logged: Vosk drops them from the grammar silently, and a
    keyword that can never be heard is a mistake in the keyword file. Some models (the small
    Korean one) have no "[unk]": then every sound is mapped to some grammar word, which is why
    keyword files may list fillers (see keywords.recognizer_phrases) and why a spoken menu choice
    heard with low confidence is confirmed before it is acted on.
    """
    missing = sorted(
        {word for phrase in phrases for word in phrase.split() if model.vosk_model_find_word(word) < 0}
        - _reported_missing
    )
    if missing:  # once per word and process, not once per call
        _reported_missing.update(missing)
        logger.warning("words not in the speech model's vocabulary, never recognised: %s", ", ".join(missing))
    has_unknown = model.vosk_model_find_word(UNKNOWN) >= 0
    return [*phrases, UNKNOWN] if has_unknown else list(phrases)
