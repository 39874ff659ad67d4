"""The real Rasa server shared by the end-to-end tests of every channel (one per pytest run)."""

from __future__ import annotations

from app.launcher import rasa_service
from core.settings import Settings


class RasaStack:
    """Rasa and its settings; tests may stop and restart Rasa (the Rasa-down test does)."""

    def __init__(self, base: Settings) -> None:
        self.base = base
        self.rasa = rasa_service(base)

    def start(self) -> None:
        self.rasa.start(log_to_files=True)
        self.rasa.wait_healthy()

    def stop(self) -> None:
        self.rasa.stop()
