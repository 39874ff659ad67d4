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
from core.rasa_servers import ranked
from core.settings import RasaSettings

logger = logging.getLogger(__name__)

CONNECT_RETRY_DELAY_S = 0.3
# Rasa's router does not decode %3A: sender ids such as "web:alice:12" keep their colons.
SENDER_SAFE = ":@+"
# A rolled-over conversation replays this many of the latest customer turns: policies look a few
# turns back, and actions count fallbacks in a row and find what the customer came for.
CARRIED_TURNS = 3
# Events that wipe a tracker: replayed into the fresh conversation they would erase what it carries.
_RESETS = frozenset({"session_started", "restart"})


class RasaClient:
    """One pooled HTTP client per process for every Rasa server; each conversation goes to its own
    server (see core/rasa_servers.py) and every failure becomes DialogueUnavailable."""

    def __init__(self, settings: RasaSettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._servers = settings.servers
        timeout = httpx.Timeout(settings.reply_timeout, connect=settings.connect_timeout)
        self._http = client or httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=200),
            auth=RasaAuth(settings.token.get_secret_value()),
        )

    @property
    def rollover_turns(self) -> int:
        """Customer turns after which a conversation moves to a fresh sender id (0: never)."""
        return self._settings.rollover_turns

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one customer turn; an empty list is a failure (Rasa hides errors so)."""
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        rounds = self._settings.connect_retries + 1
        response = await self._request(
            "POST", sender_id, "/webhooks/rest/webhook", "Rasa failed", body, rounds
        )
        replies = _json(response, "reply")
        if not isinstance(replies, list) or not replies:
            raise DialogueUnavailable("Rasa answered without any reply")
        if not all(_is_reply(r) for r in replies):
            raise DialogueUnavailable("reply: not in Rasa's REST format")
        return replies

    async def parse(self, sender_id: str, text: str) -> dict[str, Any]:
        """What the bot's model reads in a text (intents, the FAQ answers' ranking), without a turn:
        nothing is added to any conversation. Rasa 3.6 reads no metadata here, so none is sent."""
        response = await self._request("POST", sender_id, "/model/parse", "parse", {"text": text})
        parsed = _json(response, "parse")
        if not isinstance(parsed, dict):
            raise DialogueUnavailable("parse: not in Rasa's format")
        return parsed

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        """The full Rasa tracker (slots, events with intent confidences)."""
        path = f"/conversations/{quote(sender_id, safe=SENDER_SAFE)}/tracker"
        response = await self._request("GET", sender_id, path, "tracker")
        tracker = _json(response, "tracker")
        if not _is_tracker(tracker):
            raise DialogueUnavailable("tracker: not in Rasa's format")
        return dict(tracker)

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events (for example `resume`) to a conversation's tracker."""
        path = f"/conversations/{quote(sender_id, safe=SENDER_SAFE)}/tracker/events"
        await self._request("POST", sender_id, path, "events not appended", events)

    async def resume(self, sender_id: str) -> None:
        """Hand a paused conversation back to the bot, which keeps its slots and form progress.

        A paused tracker ends on action_handoff; the bot expects the next message only after
        action_listen, so both are appended (without it the next turn falls to the fallback).
        """
        await self.append_events(
            sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def roll_over(self, sender_id: str, new_sender_id: str) -> bool:
        """Start `new_sender_id` where `sender_id` stands (Rasa's cost per turn grows with the
        tracker). False, and nothing written, when the conversation should not move now."""
        events = carried_events(await self.tracker(sender_id), CARRIED_TURNS)
        if events is None:
            return False
        await self.append_events(new_sender_id, events)
        return True

    async def _request(
        self, method: str, sender_id: str, path: str, what: str, body: Any = None, rounds: int = 1
    ) -> httpx.Response:
        """The conversation's own server answers; one that refuses the connection, or does not answer
        it in time (its machine hangs), hands the request to the next in its ranking, and `rounds`
        times through them all with a pause in between. Only a connection never made moves on: the
        request surely never arrived. A timeout after connecting or a 5xx may come after Rasa handled
        it, so it is never sent again, to this server or another."""
        servers = ranked(self._servers, sender_id)
        refused: httpx.TransportError = httpx.ConnectError("no Rasa server configured")
        for round_ in range(1, rounds + 1):
            for server in servers:
                try:
                    response = await self._http.request(method, server + path, json=body)
                    response.raise_for_status()
                    return response
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    refused = exc
                except httpx.HTTPError as exc:
                    raise DialogueUnavailable(f"{what}: {_kind(exc)}") from exc
            if round_ < rounds:
                await asyncio.sleep(CONNECT_RETRY_DELAY_S * round_)
        raise DialogueUnavailable(f"Rasa unreachable: {_kind(refused)}") from refused


def carried_events(tracker: dict[str, Any], turns: int) -> list[dict[str, Any]] | None:
    """The events that open a fresh conversation in the state this tracker ends in: a session
    start, every set slot, the form as it stood before the last `turns` customer turns, and those
    turns replayed as they happened. None while paused (with a person) or in the middle of a turn."""
    events: list[dict[str, Any]] = tracker.get("events") or []
    steps = [e for e in events if e.get("event") in ("user", "action")]
    if tracker.get("paused") or not steps or steps[-1].get("name") != "action_listen":
        return None
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    start = users[max(0, len(users) - turns)] if turns and users else len(events)
    recent = [e for e in events[start:] if e.get("event") not in _RESETS]
    head: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        *(
            {"event": "slot", "name": name, "value": value}
            for name, value in (tracker.get("slots") or {}).items()
            if value is not None
        ),
        *_loops_before(events[:start]),
        {"event": "action", "name": "action_listen"},
    ]
    # Rasa reads a conversation from its latest session start by timestamp: the start must not be
    # newer than the replayed turns.
    stamp = recent[0].get("timestamp") if recent else None
    if stamp is not None:
        head = [{**event, "timestamp": stamp} for event in head]
    return head + recent


def _loops_before(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The form active at that point, after the last form that ran (an action asks which it was)."""
    active: str | None = None
    last: str | None = None
    for event in events:
        if event.get("event") == "active_loop":
            active = event.get("name") or None
            last = active or last
        elif event.get("event") in _RESETS:
            active = None
    loops = [] if last is None or last == active else [{"event": "active_loop", "name": last}]
    if loops:
        loops.append({"event": "active_loop", "name": None})
    if active is not None:
        loops.append({"event": "active_loop", "name": active})
    return loops


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
