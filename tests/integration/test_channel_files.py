"""Operators open files customers sent through whichever channel the app registered for them."""

from __future__ import annotations

from core.files import ChannelFile, FileGone, FileSourceUnavailable, file_url
from core.settings import Settings
from tests.chat import FrontLine
from tests.integration.test_operator_api import add_operator, log_in


class ShelfFiles:
    """A channel's files as a dict; ids it does not know are gone, "down" means the channel is."""

    def __init__(self, files: dict[str, ChannelFile]) -> None:
        self.files = files

    async def fetch(self, file_id: str) -> ChannelFile:
        if file_id == "down":
            raise FileSourceUnavailable("the shelf is closed")
        if file_id not in self.files:
            raise FileGone("no such file on the shelf")
        return self.files[file_id]


async def test_a_registered_channel_serves_its_files_to_operators_only(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    photo = ChannelFile("modem.jpg", b"\xff\xd8 jpeg")
    front_line.app.state.channel_files["shelf"] = ShelfFiles({"f1": photo})
    await add_operator(settings_without_bot, "dana", "Dana")
    auth = await log_in(front_line.http, "dana")

    assert (await front_line.http.get(file_url("shelf", "f1"))).status_code == 401
    found = await front_line.http.get(file_url("shelf", "f1"), headers=auth)
    assert found.status_code == 200
    assert found.content == b"\xff\xd8 jpeg"
    assert found.headers["content-disposition"] == 'attachment; filename="modem.jpg"'

    assert (await front_line.http.get(file_url("shelf", "f2"), headers=auth)).status_code == 404
    assert (await front_line.http.get(file_url("shelf", "down"), headers=auth)).status_code == 502
    # A channel that registered no files (Telegram is not enabled here).
    assert (await front_line.http.get(file_url("telegram", "f1"), headers=auth)).status_code == 404
