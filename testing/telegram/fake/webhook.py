"""Posting one update to the bot's webhook, as Telegram does.

Telegram sends the update as a JSON body with the secret in `X-Telegram-Bot-Api-Secret-Token`.
A 2xx answer confirms the update; the answer may carry one Bot API call (`method` plus its
parameters, as JSON or a form), which Telegram then performs; anything else leaves the update
pending for a later attempt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from testing.telegram.fake.request import Upload

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    reason: str
    method_call: dict[str, Any] | None  # parameters of a call made in the answer, with "method"


async def post_update(
    session: aiohttp.ClientSession, url: str, secret: str | None, update: dict[str, Any]
) -> WebhookAnswer:
    headers = {SECRET_HEADER: secret} if secret else {}
    async with session.post(url, json=update, headers=headers) as response:
        call = await _method_call(response) if 200 <= response.status < 300 else None
        return WebhookAnswer(response.status, response.reason or "", call)


async def _method_call(response: aiohttp.ClientResponse) -> dict[str, Any] | None:
    if response.content_type == "application/json":
        body = await response.read()
        params = json.loads(body) if body.strip() else None
    elif response.content_type.startswith("multipart/"):
        params = await _multipart(response)
    else:
        return None
    return params if isinstance(params, dict) and params.get("method") else None


async def _multipart(response: aiohttp.ClientResponse) -> dict[str, Any]:
    params: dict[str, Any] = {}
    reader = aiohttp.MultipartReader.from_response(response)
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            params[part.name] = Upload(part.filename, content_type, bytes(await part.read()))
        else:
            params[part.name] = await part.text()
    return params
