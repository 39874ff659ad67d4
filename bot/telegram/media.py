"""Files, voice notes, stickers and contacts from Telegram as stored attachments for operators."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message

from bot.telegram import CHANNEL
from core.files import file_url


def describe_media(message: Message) -> tuple[str, dict[str, Any]] | None:
    """(text to store, media dict) for a message carrying a file; None for anything else."""
    found = _media_of(message)
    if found is None:
        return None
    kind, media = found
    media = {k: v for k, v in media.items() if v is not None}
    media["kind"] = kind
    media["url"] = file_url(CHANNEL, media["file_id"])  # served through files.py
    label = f"[{kind} {media['emoji']}]" if kind == "sticker" and media.get("emoji") else f"[{kind}]"
    caption = (message.caption or "").strip()
    return (f"{label} {caption}" if caption else label), media


def _media_of(message: Message) -> tuple[str, dict[str, Any]] | None:
    if message.photo:
        largest = message.photo[-1]
        return "photo", {
            "file_id": largest.file_id,
            "file_unique_id": largest.file_unique_id,
            "mime_type": "image/jpeg",
            "width": largest.width,
            "height": largest.height,
        }
    if message.document:
        d = message.document
        return "document", {
            "file_id": d.file_id,
            "file_unique_id": d.file_unique_id,
            "mime_type": d.mime_type,
            "file_name": d.file_name,
            "file_size": d.file_size,
        }
    if message.voice:
        v = message.voice
        return "voice", {
            "file_id": v.file_id,
            "file_unique_id": v.file_unique_id,
            "mime_type": v.mime_type,
            "duration": v.duration,
        }
    if message.sticker:
        s = message.sticker
        return "sticker", {"file_id": s.file_id, "file_unique_id": s.file_unique_id, "emoji": s.emoji}
    for kind in ("audio", "video", "video_note", "animation"):
        item = getattr(message, kind)
        if item is not None:
            return kind, {
                "file_id": item.file_id,
                "file_unique_id": item.file_unique_id,
                "mime_type": getattr(item, "mime_type", None),
            }
    return None
