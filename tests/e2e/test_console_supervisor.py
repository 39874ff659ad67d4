"""Supervision in a real browser: an operator switches her status and asks for a supervisor, sees a
supervisor's whisper in her transcript (the customer never does); the supervisor's view lists the ask
and the live conversation, reads along, whispers and takes the conversation over."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import httpx

from core.kinds import OperatorRole
from handoff.operators import set_role
from tests.e2e.test_console_browser import (  # noqa: F401 (browser and live_server are fixtures)
    LiveServer,
    _all,
    _assert_page_is_clean,
    _chat,
    _customer_messages,
    _find,
    _keep_online,
    _log_in,
    _open_from,
    _plain,
    _queued,
    _staff,
    _wait,
    browser,
    live_server,
)

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


def _status(http: httpx.Client, auth: dict[str, str]) -> str:
    return str(http.get("/api/operator/me/status", headers=auth).json()["status"])


def test_status_whisper_ask_and_take_over(
    live_server: LiveServer,  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    from selenium.webdriver.support.ui import Select

    driver = browser
    customer = f"sv-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        nadia = _staff(live_server, http, "nadia", "Nadia")
        sam = _staff(live_server, http, "sam", "Sam")
        omid = _staff(live_server, http, "omid", "Omid")
        asyncio.run(set_role(live_server.settings, "sam", OperatorRole.SUPERVISOR))
        ticket_id = _queued(http, nadia, customer, "You charged me twice, I want my money back")

        # The operator's status: available once her console is open; a break is kept by the server.
        _log_in(driver, live_server, nadia.login, nadia.password)
        assert _find(driver, "#tab-supervisor").is_displayed() is False  # not a supervisor
        _wait(
            driver, lambda d: _find(d, "#operator-status").get_attribute("value") == "available", "available"
        )
        Select(_find(driver, "#operator-status")).select_by_value("break")
        _wait(driver, lambda d: _status(http, nadia.auth) == "break", "the break stored")
        Select(_find(driver, "#operator-status")).select_by_value("available")
        _wait(driver, lambda d: _status(http, nadia.auth) == "available", "available again")

        # She claims the conversation and asks a supervisor, with a reason.
        _open_from(driver, "queue", ticket_id)
        assert not _find(driver, ".ask-supervisor").is_displayed()  # not hers yet
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, ".ask-supervisor-button").is_displayed(), "the ask button")
        # A colleague with the console open but on a break is shown so in the transfer list.
        _keep_online(live_server, omid)
        assert http.put("/api/operator/me/status", headers=omid.auth, json={"status": "break"}).is_success
        _find(driver, "#transfer").click()
        omid_option = '#transfer-target option[value="operator:omid"]'
        _wait(driver, lambda d: "On a break" in _find(d, omid_option).text, "Omid on a break")
        _find(driver, "#transfer-cancel").click()
        _find(driver, ".ask-supervisor-button").click()
        reason = "Customer wants a refund of a double charge"
        _find(driver, "#ask-supervisor-reason").send_keys(reason)
        _find(driver, ".ask-supervisor-form button[type=submit]").click()
        _wait(
            driver, lambda d: "supervisor has been asked" in _find(d, ".ask-supervisor-status").text, "asked"
        )
        asks = http.get("/api/supervisor/asks", headers=sam.auth).json()
        assert [a["reason"] for a in asks] == [reason]

        # A supervisor's whisper appears in her transcript, marked as one; the customer never sees it.
        whisper = "Refund approved, up to one month's fee"
        said = http.post(
            f"/api/supervisor/tickets/{ticket_id}/whisper", headers=sam.auth, json={"text": whisper}
        )
        assert said.status_code == 200, said.text
        shown = _wait(driver, lambda d: (_all(d, "#transcript .msg-whisper") or [None])[0], "the whisper")
        assert whisper in shown.text and "Whisper from Sam" in shown.text
        assert whisper not in [m["text"] for m in _customer_messages(http, customer)["messages"]]
        _assert_page_is_clean(driver)

        # The supervisor's view: the ask, the conversation, reading along, whispering, taking over.
        _log_in(driver, live_server, sam.login, sam.password)
        _find(driver, "#tab-supervisor").click()
        _wait(driver, lambda d: reason in _find(d, ".sv-asks").text, "the ask in the supervisor's view")
        row = f'.sv-conversation[data-session-id="{asks[0]["session_id"]}"]'
        _wait(driver, lambda d: _all(d, row), "the live conversation")
        assert "Nadia" in _find(driver, row).text
        _find(driver, f"{row} button").click()
        _wait(driver, lambda d: "charged me twice" in _find(d, ".sv-transcript").text, "reading along")
        assert whisper in _find(driver, ".sv-transcript .msg-whisper").text
        _chat(http, {"customer": customer, "text": "hello? anyone there?"})
        _wait(driver, lambda d: "anyone there?" in _find(d, ".sv-transcript").text, "the live message")

        _find(driver, "#sv-whisper-text").send_keys("Offer the refund now")
        _find(driver, ".sv-whisper-form button[type=submit]").click()
        _wait(driver, lambda d: _find(d, ".sv-status").text == "Whisper sent.", "the whisper sent")
        whispers = http.get(f"/api/operator/tickets/{ticket_id}/whispers", headers=nadia.auth).json()
        assert [w["text"] for w in whispers] == [whisper, "Offer the refund now"]

        _find(driver, ".sv-actions button").click()  # take over
        _wait(
            driver,
            lambda d: "is yours now" in " ".join(e.text for e in _all(d, ".supervision-toast")),
            "toast",
        )
        ticket = http.get(f"/api/operator/tickets/{ticket_id}", headers=sam.auth).json()["ticket"]
        assert ticket["operator_id"] == sam.id
        _wait(driver, lambda d: not _all(d, ".sv-ask"), "the ask answered by the take-over")
        # Today's figures: Nadia's time per status, and the ask, answered.
        nadia_time = f'.sv-time-row[data-operator-id="{nadia.id}"]'
        _wait(driver, lambda d: _all(d, nadia_time), "Nadia's time per status")
        assert _find(driver, f'{nadia_time} td[data-status="break"]').text.startswith("0:")
        _wait(driver, lambda d: "answered: 1" in _find(d, ".sv-time p").text, "the ask in today's figures")
        told = [_plain(m["text"]) for m in _customer_messages(http, customer)["messages"]]
        assert told[-1] == "Sam from our team has joined the conversation."
    _assert_page_is_clean(driver)
