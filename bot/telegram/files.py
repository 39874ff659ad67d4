"""Files customers sent to the bot, fetched through it for operators (Telegram's links expose the token)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError

from bot.telegram.channel import TelegramChannel
from core.files import ChannelFile, FileGone, FileSourceUnavailable


class TelegramFiles:
    """The Telegram channel's `ChannelFiles`; the channel is looked up per call (it may be restarted)."""

    def __init__(self, channel: Callable[[], TelegramChannel | None]) -> None:
        self._channel = channel

    async def fetch(self, file_id: str) -> ChannelFile:
        channel = self._channel()
        if channel is None:
            raise FileSourceUnavailable("the Telegram channel is not running just now")
        try:
            found = await channel.bot.get_file(file_id)
            if not found.file_path:
                raise FileGone("Telegram has no such file any more")
            data = await channel.bot.download_file(found.file_path)
        except TelegramBadRequest as exc:
            raise FileGone(exc.message) from exc
        except (TelegramAPIError, TelegramNetworkError) as exc:
            raise FileSourceUnavailable("Telegram is not reachable") from exc
        assert data is not None  # without a destination, aiogram returns the bytes
        return ChannelFile(name=found.file_path.rsplit("/", 1)[-1], content=data.read())
