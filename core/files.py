"""Files customers sent through a channel, as operators open them: the interface a channel implements.

A channel that keeps files (Telegram) provides a `ChannelFiles`; the app registers it under the
channel's name and the operator side serves it at `file_url(channel, file_id)`, so neither side
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.errors import FrontlineError

# Path of the operator route that serves a channel's file (the media payload of a message links it).
FILE_ROUTE = "/api/operator/{channel}/files/{file_id}"


def file_url(channel: str, file_id: str) -> str:
    return FILE_ROUTE.format(channel=channel, file_id=file_id)


@dataclass(frozen=True)
class ChannelFile:
    name: str
    content: bytes
    media_type: str = "application/octet-stream"


class ChannelFiles(Protocol):
    async def fetch(self, file_id: str) -> ChannelFile:
        """The file, or FileGone / FileSourceUnavailable."""
        ...


class FileGone(FrontlineError):
    """The channel has no such file (any more)."""


class FileSourceUnavailable(FrontlineError):
    """The channel that keeps the file cannot be reached, or is not running just now."""
