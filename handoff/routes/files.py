"""Files customers sent through a channel, streamed to operators by the channel the app registered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from core.files import FILE_ROUTE, ChannelFiles, FileGone, FileSourceUnavailable
from handoff.deps import CurrentOperator

router = APIRouter(tags=["operator"])

ChannelName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


@router.get(FILE_ROUTE)
async def read_file(
    channel: ChannelName, file_id: str, operator: CurrentOperator, request: Request
) -> Response:
    """A file a customer sent, fetched through its channel (404 for a channel that keeps no files)."""
    registered: dict[str, ChannelFiles] = getattr(request.app.state, "channel_files", {})
    source = registered.get(channel)
    if source is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no files from channel {channel!r} here")
    try:
        found = await source.fetch(file_id)
    except FileGone as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except FileSourceUnavailable as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from exc
    return Response(
        content=found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.name}"'},
    )
