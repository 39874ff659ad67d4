"""One app process per SQLite database: a second one exits at start with a message, the first serves on,
and a crashed app leaves nothing behind that would refuse the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.launcher import APP_PYTHON
from core.settings import PROJECT_ROOT, DbSettings, RasaSettings, Settings
from core.sqlite_owner import DatabaseInUse, own_sqlite_database
from tests.chat import running_front_line
from tests.support import free_port

START_TIMEOUT_S = 90.0
REFUSAL = "is already serving the SQLite database"


def app_env(database: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "FRONTLINE_DB__URL": f"sqlite+aiosqlite:///{database}",
        "FRONTLINE_PORT": str(port),
        "FRONTLINE_RASA__URL": f"http://127.0.0.1:{free_port()}",  # no bot: turns go to the queue
        "FRONTLINE_LOG_LEVEL": "WARNING",
    }


def wait_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "the first app exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the app did not start within {START_TIMEOUT_S:.0f} s")


def test_a_second_app_process_on_one_sqlite_database_exits_with_a_message_and_the_first_serves_on(
    tmp_path: Path,
) -> None:
    database, port = tmp_path / "front.db", free_port()
    first = subprocess.Popen([str(APP_PYTHON), "-m", "app"], cwd=PROJECT_ROOT, env=app_env(database, port))
    try:
        wait_healthy(first, port)
        second = subprocess.run(
            [str(APP_PYTHON), "-m", "app"],
            cwd=PROJECT_ROOT,
            env=app_env(database, free_port()),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        assert second.returncode != 0
        assert f"(pid {first.pid}) {REFUSAL} {database}" in second.stderr
        turn = httpx.post(
            f"http://127.0.0.1:{port}/api/chat", json={"customer": "web-1", "text": "hello"}, timeout=30
        )
        assert turn.status_code == 200, turn.text
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(timeout=30)


async def test_an_app_started_by_another_server_on_a_held_database_does_not_start(tmp_path: Path) -> None:
    """The app itself holds the database while it runs, however it is served (not only `python -m app`)."""
    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    async with running_front_line(settings):
        with pytest.raises(DatabaseInUse, match=REFUSAL):
            async with running_front_line(settings):
                pass
    async with running_front_line(settings):  # stopped: the next one starts
        pass


def test_an_app_killed_without_a_chance_to_clean_up_leaves_no_lock_behind(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, url], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(DatabaseInUse, match=f"pid {holder.pid}"), own_sqlite_database(url):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with own_sqlite_database(url):
        pass


HOLD_AND_WAIT = """
import sys, time
from core.sqlite_owner import own_sqlite_database
with own_sqlite_database(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(300)
"""


def test_a_server_or_in_memory_database_is_not_locked_here() -> None:
    with (
        own_sqlite_database("postgresql+asyncpg://u@127.0.0.1/front"),
        own_sqlite_database("postgresql+asyncpg://u@127.0.0.1/front"),
    ):
        pass
    with own_sqlite_database("sqlite+aiosqlite:///:memory:"), own_sqlite_database("sqlite+aiosqlite://"):
        pass
