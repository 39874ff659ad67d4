"""The bearer token for Rasa's HTTP API is a standard HS256 JWT that expires within a minute."""

from __future__ import annotations

import httpx
import jwt
import pytest

from core.rasa_auth import TOKEN_LIFETIME_S, RasaAuth, signed_jwt

SECRET = "a-rasa-secret-of-32-bytes-or-more-0123"


def test_a_standard_verifier_reads_the_admin_claims_rasa_checks() -> None:
    token = signed_jwt(SECRET, now=1_700_000_000)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["user"] == {"username": "frontline", "role": "admin"}
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME_S
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_the_token_is_refused_with_another_secret_or_once_expired() -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(signed_jwt(SECRET), "another-secret-of-32-bytes-or-more-01", algorithms=["HS256"])
    stale = signed_jwt(SECRET, now=1_700_000_000)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(stale, SECRET, algorithms=["HS256"])


def test_each_request_carries_a_fresh_bearer_token_and_none_without_a_secret() -> None:
    seen: list[str | None] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(rasa), auth=RasaAuth(SECRET)) as client:
        client.get("http://rasa/status")
    with httpx.Client(transport=httpx.MockTransport(rasa), auth=RasaAuth("")) as client:
        client.get("http://rasa/status")
    scheme, token = (seen[0] or "").split(" ")
    assert scheme == "Bearer"
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["user"]["role"] == "admin"
    assert seen[1] is None
