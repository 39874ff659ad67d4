"""Reading Bot API parameters the ways the real server accepts them.

Telegram takes parameters from the query string, an urlencoded or multipart form (what aiogram
sends: nested objects arrive as JSON text in a form field, uploads as file parts referenced by
`attach://<name>`) or a JSON body. Form values are strings; JSON values keep their types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from testing.telegram.fake.errors import ApiError, bad_request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise bad_request("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            params[key] = value
    return params


def loggable(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as recorded in `FakeBotApi.calls`: uploads shown by name and size."""
    return {
        key: f"<upload {value.filename!r}, {len(value.data)} bytes>" if isinstance(value, Upload) else value
        for key, value in params.items()
    }


class Params:
    """Typed access to one call's parameters, failing the way Telegram fails."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def string(self, name: str, *, missing: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if missing is not None:
                raise bad_request(missing)
            return None
        if isinstance(value, Upload):
            raise bad_request(f"wrong parameter {name} in request")
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, missing: str | None = None, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if missing is not None:
                raise bad_request(missing)
            return default
        if isinstance(value, bool):
            raise bad_request(f"wrong parameter {name} in request")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError as exc:
            raise bad_request(f"wrong parameter {name} in request") from exc

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1") if value is not None else False

    def json_value(self, name: str, *, unparsable: str) -> Any:
        """A nested object: JSON text in a form, or already decoded in a JSON body."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise bad_request(unparsable) from exc

    def chat_id(self) -> int:
        """`chat_id` as an integer; `@username` targets are not supported by the fake."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            return int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc

    def upload_or_id(self, name: str) -> Upload | str | None:
        """A file parameter: a file part (directly or via `attach://<part>`) or a file_id/URL string."""
        value = self.raw.get(name)
        if isinstance(value, Upload) or value is None or value == "":
            return value
        text = str(value)
        if text.startswith("attach://"):
            part = self.raw.get(text.removeprefix("attach://"))
            return part if isinstance(part, Upload) else None
        return text
