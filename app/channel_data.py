"""What every channel keeps about customers, registered with core.privacy (erasure, retention)."""

from __future__ import annotations

from app.chat_credentials import WEB_CHAT_DATA
from bot.telegram import CHANNEL as TELEGRAM
from bot.telegram.privacy import TELEGRAM_DATA
from core.privacy import register_channel_data


def register_channels() -> None:
    """Every channel, whether or not it runs here: its tables keep what it stored before."""
    register_channel_data(TELEGRAM, TELEGRAM_DATA)
    register_channel_data("web", WEB_CHAT_DATA)
