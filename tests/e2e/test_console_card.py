"""The customer card's corrections and keyword alerts in a real browser: a Persian customer who threatens
a complaint gets a badge in the queue and a toast; the operator who claims the conversation corrects
the card (Persian digits in the phone) and sees the change in its history."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx

from tests.e2e.test_console_browser import (  # noqa: F401 (browser and live_server are fixtures)
    LOGIN,
    PASSWORD,
    LiveServer,
    _all,
    _assert_page_is_clean,
    _chat,
    _find,
    _log_in,
    _open_from,
    _queued,
    _staff,
    _wait,
    browser,
    live_server,
)

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


def test_an_alert_is_flagged_and_the_card_is_corrected_with_its_history(
    live_server: LiveServer,  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    driver = browser
    customer = f"fa-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        staff = _staff(live_server, http, LOGIN, "Shirin", languages=("en", "fa"))
        ticket_id = _queued(http, staff, customer, "۳ روزه اینترنتم قطعه", language="fa")
        _log_in(driver, live_server, LOGIN, PASSWORD)
        item_css = f'#queue li[data-ticket-id="{ticket_id}"]'
        _wait(driver, lambda d: _all(d, item_css), "the ticket in the queue")
        assert not _all(driver, f"{item_css} .badge.alert")

        # The customer threatens a complaint while waiting: a toast, and a badge on the queue item.
        said = _chat(http, {"customer": customer, "text": "اگه تا ۲ ساعت دیگه وصل نشه ازتون شکایت می‌کنم"})
        assert said.status_code == 200, said.text
        toast = _wait(driver, lambda d: (_all(d, ".card-alert-toast") or [None])[0], "the alert toast")
        assert "شکایت" in toast.text and str(ticket_id) in toast.text
        badge = _wait(driver, lambda d: (_all(d, f"{item_css} .badge.alert") or [None])[0], "the badge")
        assert "شکایت" in (badge.get_attribute("title") or "")

        # Before claiming, the card cannot be corrected; after claiming, it can.
        _open_from(driver, "queue", ticket_id)
        _wait(driver, lambda d: "Claim the conversation" in _find(d, "#slot-card-extra").text, "claim first")
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _all(d, "#card-edit-phone"), "the card's form")
        _find(driver, "#card-edit-full_name").send_keys("مریم احمدی")
        _find(driver, "#card-edit-phone").send_keys("+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹")
        _find(driver, ".card-edit-form button[type=submit]").click()
        _wait(driver, lambda d: _find(d, ".card-edit-status").text == "Saved.", "the saved card")
        assert _find(driver, "#card-edit-phone").get_attribute("value") == "+989123456789"
        assert _find(driver, "#customer-phone").text == "+989123456789"  # the card above shows it too
        history = [e.text for e in _all(driver, ".card-history-item")]
        assert len(history) == 2 and all("Shirin" in h for h in history)
        assert any("مریم احمدی" in h for h in history)

        # A phone no numbering plan knows is refused, and what was typed stays to be corrected.
        _find(driver, "#card-edit-phone").clear()
        _find(driver, "#card-edit-phone").send_keys("12345")
        _find(driver, ".card-edit-form button[type=submit]").click()
        refused = "Not saved: 12345 is not a phone number"
        _wait(driver, lambda d: _find(d, ".card-edit-status").text.startswith(refused), "the refused phone")
        assert _find(driver, "#card-edit-phone").get_attribute("value") == "12345"
        assert len(_all(driver, ".card-history-item")) == 2
        _assert_page_is_clean(driver)
