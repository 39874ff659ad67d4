"""Speech to text: one utterance through a Vosk recogniser in a worker thread, words with confidences."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterable, Sequence
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
        self._recognizer: Any = None
        self._lock = asyncio.Lock()  # a Kaldi recogniser is not re-entrant
        self._thread_lock = threading.Lock()

    async def transcribe(self, pcm: bytes) -> str:
        """The final text of one utterance ("" when nothing was recognised)."""
        return (await self.hear(pcm)).text

    async def hear(self, pcm: bytes) -> Heard:
        """The words of one utterance, each with its confidence."""
        if not pcm:
            return Heard()
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._decode, pcm)

    def _decode(self, pcm: bytes) -> Heard:
        with self._thread_lock:
            return decode(self._ensure_recognizer(), pcm)

    def _ensure_recognizer(self) -> Any:
        # Built lazily in the worker thread: compiling a grammar takes a moment.
        if self._recognizer is None:
            if self._phrases is None:
                self._recognizer = new_recognizer(self._model, self._rate)
            else:
                grammar = json.dumps(grammar_for(self._model, self._phrases), ensure_ascii=False)
                self._recognizer = new_recognizer(self._model, self._rate, grammar)
        return self._recognizer


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
    results = []
    try:
        for start in range(0, len(pcm), CHUNK_BYTES):
            # True: Vosk found an endpoint of its own inside the utterance; keep that part.
            if recognizer.AcceptWaveform(pcm[start : start + CHUNK_BYTES]):
                results.append(json.loads(recognizer.Result()))
        results.append(json.loads(recognizer.FinalResult()))
    except Exception as exc:  # vosk raises bare Exception (e.g. 8 kHz audio, no upsampling)
        raise SpeechError(f"Vosk could not decode the audio: {exc}") from exc
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
