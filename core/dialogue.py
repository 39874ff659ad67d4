"""Rasa over HTTP: the REST channel for turns, the HTTP API for trackers and events.

Errors are described by kind and HTTP status only: their text ends up on ticket cards, in 503
details and in logs, where a URL or a response body has no place.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import httpx

from core.errors import DialogueUnavailable
from core.rasa_auth import RasaAuth
from core.settings import RasaSettings

logger = logging.getLogger(__name__)

CONNECT_RETRY_DELAY_S = 0.3
# Rasa's router does not decode %3A: sender ids such as "web:alice:12" keep their colons.
SENDER_SAFE = ":@+"


class RasaClient:
    """One pooled HTTP client per process; every failure becomes DialogueUnavailable."""

    def __init__(self, settings: RasaSettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        timeout = httpx.Timeout(settings.reply_timeout, connect=settings.connect_timeout)
        self._http = client or httpx.AsyncClient(
            base_url=settings.url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=200),
            auth=RasaAuth(settings.token.get_secret_value()),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one customer turn; an empty list is a failure (Rasa hides errors so)."""
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        response = await self._post_once("/webhooks/rest/webhook", body)
        replies = _json(response, "reply")
        if not isinstance(replies, list) or not replies:
            raise DialogueUnavailable("Rasa answered without any reply")
        if not all(_is_reply(r) for r in replies):
            raise DialogueUnavailable("reply: not in Rasa's REST format")
        return replies

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        """The full Rasa tracker (slots, events with intent confidences)."""
        path = f"/conversations/{quote(sender_id, safe=SENDER_SAFE)}/tracker"
        try:
            response = await self._http.get(path)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DialogueUnavailable(f"tracker: {_kind(exc)}") from exc
        tracker = _json(response, "tracker")
        if not _is_tracker(tracker):
            raise DialogueUnavailable("tracker: not in Rasa's format")
        return dict(tracker)

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events (for example `resume`) to a conversation's tracker."""
        path = f"/conversations/{quote(sender_id, safe=SENDER_SAFE)}/tracker/events"
        try:
            response = await self._http.post(path, json=events)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DialogueUnavailable(f"events not appended: {_kind(exc)}") from exc

    async def resume(self, sender_id: str) -> None:
        """Hand a paused conversation back to the bot, which keeps its slots and form progress.

        A paused tracker ends on action_handoff; the bot expects the next message only after
        action_listen, so both are appended (without it the next turn falls to the fallback).
        """
        await self.append_events(
            sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def _post_once(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST, retried only when the connection was refused: the message surely never arrived."""
        attempts = self._settings.connect_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.post(path, json=body)
                response.raise_for_status()
                return response
            except httpx.ConnectError as exc:
                if attempt == attempts:
                    raise DialogueUnavailable(f"Rasa unreachable: {_kind(exc)}") from exc
                await asyncio.sleep(CONNECT_RETRY_DELAY_S * attempt)
            except httpx.HTTPError as exc:
                # A timeout or a 5xx may come after Rasa handled the message: never resend it.
                raise DialogueUnavailable(f"Rasa failed: {_kind(exc)}") from exc
        raise DialogueUnavailable("unreachable")  # pragma: no cover - loop always returns or raises


def _kind(exc: httpx.HTTPError) -> str:
    """What went wrong, without the URL or body httpx puts in its messages."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    return type(exc).__name__


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:  # also a body that is not UTF-8
        raise DialogueUnavailable(f"{what}: HTTP {response.status_code} without JSON") from exc


def _is_reply(reply: Any) -> bool:
    """A REST channel message: an object whose text is a string and whose buttons are objects."""
    if not isinstance(reply, dict):
        return False
    buttons = reply.get("buttons")
    text = reply.get("text")
    return (text is None or isinstance(text, str)) and (
        buttons is None or (isinstance(buttons, list) and all(isinstance(b, dict) for b in buttons))
    )


def _is_tracker(tracker: Any) -> bool:
    if not isinstance(tracker, dict):
        return False
    slots, events = tracker.get("slots"), tracker.get("events")
    return (slots is None or isinstance(slots, dict)) and (
        events is None or (isinstance(events, list) and all(isinstance(e, dict) for e in events))
    )
