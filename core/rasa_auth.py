"""The front line's credential for Rasa's HTTP API: a short-lived JWT in the Authorization header.

Rasa 3.6 accepts either `?token=` (which ends up in URLs, error texts and access logs) or a JWT
signed with its `--jwt-secret`; the front line signs one per request, so the shared secret itself
never travels and a captured header is worthless after a minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Generator

import httpx

TOKEN_LIFETIME_S = 60
# Rasa lets an "admin" act on every conversation; a "user" only on the one named like itself.
CLAIMS = {"user": {"username": "frontline", "role": "admin"}}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(secret: str, now: float | None = None) -> str:
    """An HS256 JWT Rasa's sanic-jwt accepts, valid for TOKEN_LIFETIME_S."""
    issued = int(time.time() if now is None else now)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({**CLAIMS, "iat": issued, "exp": issued + TOKEN_LIFETIME_S}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


class RasaAuth(httpx.Auth):
    """Adds a fresh bearer JWT to every request; no secret, no header (an open Rasa in tests)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._secret:
            request.headers["Authorization"] = f"Bearer {signed_jwt(self._secret)}"
        yield request
