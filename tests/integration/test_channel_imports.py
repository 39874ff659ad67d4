"""An app without Telegram or the phone does not load their stacks (aiogram alone is ~130 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT
from tests.support import free_port

# Runs in a fresh interpreter: this test process has loaded every stack already.
SCRIPT = """
import asyncio, json, sys
import httpx
from app.factory import create_app
from core.settings import DbSettings, RasaSettings, Settings

async def main(db_url, rasa_url):
    settings = Settings(db=DbSettings(url=db_url), rasa=RasaSettings(url=rasa_url, connect_retries=0))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://front.line") as http:
            chat = await http.post("/api/chat", json={"customer": "c-1", "text": "hello"})
            webhook = await http.post("/telegram/webhook", json={"update_id": 1})
    loaded = sorted(m for m in ("aiogram", "vosk", "pyttsx3", "webrtcvad") if m in sys.modules)
    print(json.dumps({"loaded": loaded, "chat": chat.status_code, "webhook": webhook.status_code}))

asyncio.run(main(*sys.argv[1:]))
"""


def test_an_app_without_channels_answers_chat_without_loading_their_stacks(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"
    rasa_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the turn goes to the queue
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, db_url, rasa_url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert seen["chat"] == 200
    assert seen["webhook"] == 404  # the channel is not enabled, and says so
