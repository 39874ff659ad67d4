"""Speech to text for one call: a Vosk recogniser fed from a worker thread."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from ivr.speech.errors import SpeechError

logger = logging.getLogger(__name__)

UNKNOWN = "[unk]"
CHUNK_BYTES = 8000  # 0.5 s at 8 kHz: Vosk decodes as it is fed, the size only bounds each call
_reported_missing: set[str] = set()


class CallRecognizer:
    """One per call; runs Vosk in a worker thread so the event loop never blocks."""

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
        if not pcm:
            return ""
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._decode, pcm)

    def _decode(self, pcm: bytes) -> str:
        with self._thread_lock:
            recognizer = self._ensure_recognizer()
            texts = []
            try:
                for start in range(0, len(pcm), CHUNK_BYTES):
                    # True: Vosk found an endpoint of its own inside the utterance; keep that part.
                    if recognizer.AcceptWaveform(pcm[start : start + CHUNK_BYTES]):
                        texts.append(json.loads(recognizer.Result()).get("text", ""))
                # FinalResult also resets the recogniser for the next utterance of the call.
                texts.append(json.loads(recognizer.FinalResult()).get("text", ""))
            except Exception as exc:  # vosk raises bare Exception (e.g. 8 kHz audio, no upsampling)
                raise SpeechError(f"Vosk could not decode the audio: {exc}") from exc
        words = [word for text in texts for word in text.split() if word != UNKNOWN]
        return " ".join(words)

    def _ensure_recognizer(self) -> Any:
        # Built lazily in the worker thread: compiling a grammar takes a moment.
        if self._recognizer is None:
            from vosk import KaldiRecognizer

            if self._phrases is None:
                self._recognizer = KaldiRecognizer(self._model, self._rate)
            else:
                grammar = json.dumps(grammar_for(self._model, self._phrases), ensure_ascii=False)
                self._recognizer = KaldiRecognizer(self._model, self._rate, grammar)
        return self._recognizer


def grammar_for(model: Any, phrases: Sequence[str]) -> list[str]:
    """The phrases plus "[unk]" (so that other speech need not be forced onto a phrase).

    Words the model does not know are logged: Vosk drops them from the grammar silently, and a
    keyword that can never be heard is a mistake in the keyword file. Some models (the small
    Korean one) have no "[unk]": then every sound is mapped to some grammar word, which is why
    keyword files may list fillers (see keywords.recognizer_phrases).
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
