"""Errors of the speech half of the voice channel."""

from __future__ import annotations

from ivr.errors import IvrError


class SpeechError(IvrError):
    """Base of the speech errors."""


class SynthesisError(SpeechError):
    """espeak-ng could not speak a text (unknown voice, engine failure)."""


class ModelDownloadError(SpeechError):
    """A model could not be chosen, fetched, verified or unpacked."""
