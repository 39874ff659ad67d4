"""HTTP side of the channel: Telegram's webhook (operators open files through bot/telegram/files.py)."""

from __future__ import annotations

import json
import logging
import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:  # aiogram (about 130 MB) loads only where the channel is enabled
    from bot.telegram.channel import TelegramChannel

logger = logging.getLogger(__name__)

router = APIRouter(tags=["telegram"])
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def get_channel(request: Request) -> TelegramChannel:
    channel = getattr(request.app.state, "telegram", None)
    if channel is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the Telegram channel is not enabled")
    return channel  # type: ignore[no-any-return]


ChannelDep = Annotated["TelegramChannel", Depends(get_channel)]


@router.post("/telegram/webhook", include_in_schema=False)
async def receive_update(request: Request, channel: ChannelDep) -> Response:
    """200 only once the update is committed: any other answer makes Telegram deliver it again."""
    if channel.settings.mode != "webhook":
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the Telegram channel uses long polling")
    expected = channel.settings.webhook_secret.get_secret_value()
    given = request.headers.get(SECRET_HEADER, "")
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong or missing secret token")
    try:
        update = json.loads(await request.body())
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise ValueError("no update_id")
    except ValueError as exc:
        # Not an update at all: redelivering it cannot help.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"not a Telegram update: {exc}") from exc
    try:
        await channel.accept([update])
    except (DBAPIError, OSError) as exc:
        from bot.telegram.logsafe import summary  # (aiogram) loaded already: a channel is running

        logger.error("telegram update not stored update_id=%s: %s", update["update_id"], summary(exc))
        return Response(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    return Response(status_code=status.HTTP_200_OK)
