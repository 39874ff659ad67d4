"""`python -m app.launcher serve` stopped impatiently: nothing it started survives, the ports are free."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.launcher import APP_PYTHON, RASA_BIN
from core.settings import PROJECT_ROOT, Settings
from tests.support import free_port, require

pytestmark = pytest.mark.e2e

STARTUP_LIMIT_S = 400  # a generous bound for a loaded machine, not a timing under test


class Launcher:
    def __init__(self, tmp_path: Path) -> None:
        self.ports = {"rasa": free_port(), "actions": free_port(), "app": free_port()}
        self.output = tmp_path / "launcher.out"
        env = {
            **os.environ,
            "FRONTLINE_RASA__URL": f"http://127.0.0.1:{self.ports['rasa']}",
            "FRONTLINE_RASA__TOKEN": "",  # the launcher makes one up, as `make run` does
            "FRONTLINE_ACTIONS__PORT": str(self.ports["actions"]),
            "FRONTLINE_PORT": str(self.ports["app"]),
            "FRONTLINE_DB__URL": f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}",
            "FRONTLINE_IVR__ENABLED": "false",
            "FRONTLINE_TELEGRAM__TOKEN": "",
        }
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [str(APP_PYTHON), "-m", "app.launcher", "serve"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.started: list[psutil.Process] = []

    def wait_for(self, text: str, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while text not in self.output.read_text(errors="replace"):
            if self.process.poll() is not None:
                pytest.fail(f"launcher exited early:\n{self.output.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no {text!r} from the launcher:\n{self.output.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)

    def survivors(self) -> list[psutil.Process]:
        alive = []
        for process in self.started:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.NoSuchProcess:
                pass
        return alive


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    require(RASA_BIN.exists() and APP_PYTHON.exists(), "the two venvs (run `make test`)")
    require(Settings().model_path.exists(), "a trained model (run `make model`)")
    launcher = Launcher(tmp_path)
    yield launcher
    # Whatever the test found, leave no process of ours behind for the next test.
    if launcher.process.poll() is None:
        launcher.process.kill()
        launcher.process.wait()
    for process in launcher.survivors():
        process.kill()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)],
    ids=["ctrl-c twice", "sigterm twice"],
)
def test_a_second_stop_signal_during_shutdown_still_stops_every_service(
    launcher: Launcher, first: signal.Signals, second: signal.Signals
) -> None:
    launcher.wait_for("app ready", STARTUP_LIMIT_S)
    launcher.started = psutil.Process(launcher.process.pid).children(recursive=True)
    assert len(launcher.started) >= 3  # actions, rasa, app (and whatever they started)

    launcher.process.send_signal(first)
    launcher.wait_for("stopping", 60)
    time.sleep(0.3)  # the stop is under way: the impatient second signal
    launcher.process.send_signal(second)
    launcher.process.wait(timeout=120)

    assert launcher.survivors() == []
    assert all(_port_free(port) for port in launcher.ports.values()), launcher.ports
