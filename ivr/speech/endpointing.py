"""Where a caller's utterance starts and ends, from webrtcvad decisions on 20 ms frames."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import webrtcvad

RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2  # 320 bytes of 16-bit mono
PREROLL_MS = 200  # kept before the detected onset: the first phoneme is quieter than the vowel after it
ONSET_RATIO = 0.8  # share of voiced frames in the onset window that counts as speech


@dataclass(frozen=True)
class SpeechStarted:
    """The caller began speaking: a prompt being played should stop (barge-in).

    `onset` is the utterance's audio so far; every frame fed from here on, up to and including the
    one that ends it, follows on (so a recogniser can decode the utterance while it is spoken).
    """

    onset: bytes = b""


@dataclass(frozen=True)
class Utterance:
    """One complete utterance, 8 kHz 16-bit mono, with its leading and trailing context."""

    pcm: bytes
    duration_s: float


class Endpointer:
    """Feeds 20 ms frames; says when speech starts and hands back the utterance when it ends."""

    def __init__(
        self,
        *,
        silence_ms: int = 500,
        min_speech_ms: int = 200,
        aggressiveness: int = 2,
        max_utterance_s: float = 15.0,
    ) -> None:
        if not 0 <= aggressiveness <= 3:
            raise ValueError("aggressiveness is 0..3 (webrtcvad modes)")
        self._vad = webrtcvad.Vad(aggressiveness)
        self._silence_frames = max(1, silence_ms // FRAME_MS)
        self._onset_frames = max(1, min_speech_ms // FRAME_MS)
        self._max_frames = max(self._onset_frames, int(max_utterance_s * 1000) // FRAME_MS)
        self._onset: deque[bool] = deque(maxlen=self._onset_frames)
        self._preroll: deque[bytes] = deque(maxlen=self._onset_frames + PREROLL_MS // FRAME_MS)
        self._speech: list[bytes] = []
        self._trailing_silence = 0
        self._speaking = False

    @property
    def speaking(self) -> bool:
        return self._speaking

    def feed(self, frame: bytes) -> SpeechStarted | Utterance | None:
        if len(frame) != FRAME_BYTES:
            raise ValueError(
                f"a frame is {FRAME_BYTES} bytes (20 ms at 8 kHz, 16-bit mono), got {len(frame)}"
            )
        voiced = self._vad.is_speech(frame, RATE)
        if self._speaking:
            return self._continue(frame, voiced)
        return self._listen(frame, voiced)

    def reset(self) -> None:
        """Forget everything heard so far (a new prompt starts, the call moves on)."""
        self._onset.clear()
        self._preroll.clear()
        self._speech = []
        self._trailing_silence = 0
        self._speaking = False

    def _listen(self, frame: bytes, voiced: bool) -> SpeechStarted | None:
        self._onset.append(voiced)
        self._preroll.append(frame)
        full = len(self._onset) == self._onset_frames
        if not full or sum(self._onset) < ONSET_RATIO * self._onset_frames:
            return None
        self._speaking = True
        self._speech = list(self._preroll)
        self._trailing_silence = 0
        self._onset.clear()
        self._preroll.clear()
        return SpeechStarted(b"".join(self._speech))

    def _continue(self, frame: bytes, voiced: bool) -> Utterance | None:
        self._speech.append(frame)
        self._trailing_silence = 0 if voiced else self._trailing_silence + 1
        ended = self._trailing_silence >= self._silence_frames
        if not ended and len(self._speech) < self._max_frames:
            return None
        pcm = b"".join(self._speech)
        self.reset()
        return Utterance(pcm=pcm, duration_s=len(pcm) / (RATE * 2))
