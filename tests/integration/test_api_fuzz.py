"""Requests generated from the OpenAPI schema (Schemathesis): whatever a client sends, no 5xx.

The app runs behind a real HTTP server (uvicorn) on SQLite, with an operator logged in (the
operator and figures routes are fuzzed with a valid token) and no bot (turns go to the queue).
FUZZ_EXAMPLES sets the examples per operation and mode (default 30; the README figure used more).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from app.factory import create_app
from core.settings import DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from tests.support import free_port

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


@dataclass
class Target:
    url: str
    auth: dict[str, str]
    sent: list[int] = field(default_factory=list)  # status codes, one per request


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{folder / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings_), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, name="fuzz-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    asyncio.run(
        save_operator(settings_, "fuzz", "fuzz-secret-pw", display_name="Fuzz",
                      skills=["general"], languages=["en"], max_sessions=3)
    )  # fmt: skip
    login = httpx.post(f"{url}/api/operator/login", json={"login": "fuzz", "password": "fuzz-secret-pw"})
    try:
        yield Target(url, {"Authorization": f"Bearer {login.json()['token']}"})
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def api_schema(target: Target) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{target.url}/openapi.json")
    # Not fuzzed: the live stream never ends by itself, and logging out would end the token's run.
    return schema.exclude(path_regex=r"^/api/operator/(events|logout)$")


def test_no_request_gets_a_server_error(api_schema: schemathesis.BaseSchema, target: Target) -> None:
    server_errors: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15  # chat, operator, tickets, figures

    for operation, mode in itertools.product(operations, GenerationMode):  # valid, then invalid input

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def send(case: schemathesis.Case) -> None:
            headers = {**target.auth, **(case.headers or {})}
            response = case.call(base_url=target.url, headers=headers, timeout=15)
            target.sent.append(response.status_code)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )

        try:
            send()
        except Unsatisfiable:  # nothing invalid can be sent to an operation without input
            assert mode is GenerationMode.NEGATIVE
    print(f"fuzzed requests: {len(target.sent)}, 5xx: {len(server_errors)}")
    assert not server_errors, server_errors[:10]
