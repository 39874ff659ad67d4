"""The front line's credential for Rasa's HTTP API: a short-lived JWT in the Authorization header.

Rasa 3.6 accepts either `?token=` (which ends up in URLs, error texts and access logs) or a JWT
signed with its `--jwt-secret`; the front line signs one per request, so the shared secret itself
never travels and a captured header is worthless after a minute.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx
import jwt

TOKEN_LIFETIME_S = 60
ALGORITHM = "HS256"  # what app.rasa_run tells Rasa to expect (--jwt-method)
# Rasa lets an "admin" act on every conversation; a "user" only on the one named like itself.
CLAIMS = {"user": {"username": "frontline", "role": "admin"}}


def signed_jwt(secret: str, now: float | None = None) -> str:
    """An HS256 JWT Rasa's sanic-jwt accepts, valid for TOKEN_LIFETIME_S."""
    issued = int(time.time() if now is None else now)
    claims = {**CLAIMS, "iat": issued, "exp": issued + TOKEN_LIFETIME_S}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class RasaAuth(httpx.Auth):
    """Adds a fresh bearer JWT to every request; no secret, no header (an open Rasa in tests)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._secret:
            request.headers["Authorization"] = f"Bearer {signed_jwt(self._secret)}"
        yield request
