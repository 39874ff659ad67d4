"""The secret that guards Rasa's HTTP API stays secret: not in `ps`, not on a ticket, not in a 503."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import psutil
import pytest
from pydantic import SecretStr

from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import running_front_line
from tests.stack import RasaStack

pytestmark = pytest.mark.e2e


def test_the_secret_is_not_on_any_rasa_command_line(rasa_stack: RasaStack) -> None:
    secret = rasa_stack.base.rasa.token.get_secret_value()
    assert rasa_stack.rasa.process is not None
    rasa = psutil.Process(rasa_stack.rasa.process.pid)
    for process in [rasa, *rasa.children(recursive=True)]:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert secret.encode() not in cmdline


async def test_a_rejected_tracker_request_leaves_no_secret_on_the_card_or_in_the_503(
    stack_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Rasa refuses the app's credential (401): the turn still works, the card says why the slots
    are missing, and neither the card, the return-to-bot error nor the log holds the credential."""
    caplog.set_level(logging.INFO)
    secret = "not-the-rasa-secret-0123456789"
    rasa = stack_settings.rasa.model_copy(update={"token": SecretStr(secret)})
    settings = stack_settings.model_copy(update={"rasa": rasa})
    await save_operator(
        settings, "omar", "omar-secret-pw", display_name="Omar",
        skills=["orders", "general"], languages=["en"], max_sessions=3,
    )  # fmt: skip
    async with running_front_line(settings) as front_line:
        customer = front_line.customer()
        await customer.say("I want to talk to a real person")
        reply = await customer.say("yes")
        assert reply["state"] == "queued"

        http = front_line.http
        login = await http.post("/api/operator/login", json={"login": "omar", "password": "omar-secret-pw"})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        queue = (await http.get("/api/operator/queue", headers=auth)).json()
        ticket_id = next(t["id"] for t in queue if t["session_id"] == reply["session_id"])
        ticket = (await http.get(f"/api/operator/tickets/{ticket_id}", headers=auth)).json()
        assert "401" in ticket["card"]["dialogue_error"]
        assert secret not in json.dumps(ticket)

        assert (await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=auth)).status_code == 200
        back = await http.post(f"/api/operator/tickets/{ticket_id}/return-to-bot", headers=auth)
        assert back.status_code == 503
        assert "401" in back.text and secret not in back.text

    assert secret not in caplog.text
