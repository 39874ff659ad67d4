"""Agent assist in a real browser: a Persian and a Russian customer's question, the bot's own answer
suggested under the reply box, one click puts it in the reply box, and the reply sent from it counts.

The real Rasa server with the trained model and the action server: the customer asks the bot for a
person first, then asks the question while waiting. Headless Chromium from the system's packages.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from app.factory import create_app
from bot.responses import load_language
from core.settings import Settings
from handoff.operators import save_operator
from tests.support import free_port, require

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LOGIN, PASSWORD = "leila", "leila-secret-pw"
WAIT = 15.0
ALWAYS_OPEN_HOURS = """timezone: UTC
week: {mon: ["00:00-24:00"], tue: ["00:00-24:00"], wed: ["00:00-24:00"], thu: ["00:00-24:00"],
       fri: ["00:00-24:00"], sat: ["00:00-24:00"], sun: ["00:00-24:00"]}
"""


@pytest.fixture(scope="module")
def server(
    stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    """The app behind uvicorn on a free port, talking to the shared Rasa server."""
    hours = tmp_path_factory.mktemp("assist") / "hours.yml"
    hours.write_text(ALWAYS_OPEN_HOURS, encoding="utf-8")
    settings = stack_settings.model_copy(update={"hours_path": hours})
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, name="assist-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not app_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app server did not start")
        time.sleep(0.05)
    asyncio.run(
        save_operator(
            settings, LOGIN, PASSWORD, display_name="Leila",
            skills=["general"], languages=["en", "ru", "fa"], max_sessions=5,
        )
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        app_server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    require(importlib.util.find_spec("selenium") is not None, "selenium (pip install selenium==4.51.0)")
    require(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM} (apt-get install chromium)")
    require(shutil.which(CHROMEDRIVER) is not None, f"chromedriver at {CHROMEDRIVER}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,900", "--lang=en-GB",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(
        driver, WAIT, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    return waiting.until(condition, f"timed out waiting for {what}")


def _all(driver: WebDriver, css: str) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _find(driver: WebDriver, css: str) -> WebElement:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _customer_waits_with_a_question(http: httpx.Client, customer: str, language: str, question: str) -> int:
    """The customer asks the bot for a person (the buttons' payloads), then asks while waiting."""
    token: dict[str, str] = {}
    for text in ("/request_human", "/affirm", question):
        response = http.post(
            "/api/chat", json={"customer": customer, "text": text, "language": language}, headers=token
        )
        assert response.status_code == 200, response.text
        token = token or {"Authorization": f"Bearer {response.json()['token']}"}
    assert response.json()["state"] == "queued", response.text
    return int(response.json()["session_id"])


_FIRST_SUGGESTION = """
const buttons = document.querySelectorAll('[data-slot="assist"] button.assist-use');
if (!buttons.length) return null;
const text = buttons[0].querySelector('.assist-text');
return {count: buttons.length, topic: buttons[0].dataset.suggestion,
        confidence: buttons[0].querySelector('.assist-confidence').textContent,
        dir: text.getAttribute('dir'), direction: getComputedStyle(text).direction};
"""


def _click_first_suggestion(driver: WebDriver) -> bool:
    """Clicks the first suggestion; a button drawn again meanwhile is stale and the wait tries anew."""
    _all(driver, '[data-slot="assist"] button.assist-use')[0].click()
    return True


def _log_in(driver: WebDriver, url: str) -> None:
    driver.get(f"{url}/console")
    shown = lambda d: _find(d, "#login-name").is_displayed() or _find(d, "#console-view").is_displayed()  # noqa: E731
    _wait(driver, shown, "the console or its log-in")
    if _find(driver, "#login-name").is_displayed():
        _find(driver, "#login-name").send_keys(LOGIN)
        _find(driver, "#login-password").send_keys(PASSWORD)
        _find(driver, "#login-submit").click()
    _wait(driver, lambda d: _find(d, "#console-view").is_displayed(), "the console after log-in")


@pytest.mark.parametrize(
    ("language", "question", "topic"),
    [
        ("fa", "ببخشید، اگه تکنسین بیاد خونه باید پول بدم؟", "faq/visit_cost"),
        ("ru", "добрый день, еду в отпуск в Турцию, симка там будет работать?", "faq/roaming"),
    ],
)
def test_a_click_puts_the_suggested_answer_in_the_reply_box_and_the_reply_counts(
    server: tuple[str, Settings], browser: WebDriver, language: str, question: str, topic: str
) -> None:
    url, _settings = server
    driver = browser
    answer = load_language(language).responses[f"utter_{topic}"]["text"]
    with httpx.Client(base_url=url, timeout=30) as http:
        session_id = _customer_waits_with_a_question(
            http, f"{language}-{time.monotonic_ns()}", language, question
        )
        token = http.post("/api/operator/login", json={"login": LOGIN, "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        ticket_id = next(t["id"] for t in http.get("/api/operator/queue", headers=auth).json()
                         if t["session_id"] == session_id)  # fmt: skip
        before = http.get("/api/operator/kpi/suggestions", headers=auth).json()

        _log_in(driver, url)
        item_css = f'#queue button[data-ticket-id="{ticket_id}"]'
        _wait(driver, lambda d: _all(d, item_css), "the ticket in the queue")[0].click()
        _wait(driver, lambda d: _find(d, "#claim").is_enabled(), "the claim button")
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, "#reply-text").is_enabled(), "the reply box after claiming")

        # Up to three answers under the reply box, the bot's own first, in the customer's language.
        # Read in one script call: the list is drawn again when the conversation's events arrive.
        shown = _wait(driver, lambda d: d.execute_script(_FIRST_SUGGESTION), "suggestions")
        assert 1 <= shown["count"] <= 3
        assert shown["topic"] == topic
        assert "%" in shown["confidence"]
        assert shown["dir"] == "auto"
        assert shown["direction"] == ("rtl" if language == "fa" else "ltr")
        assert _find(driver, "#reply-text").get_attribute("value") == ""

        _wait(driver, _click_first_suggestion, "a click on the first suggestion")
        box = _find(driver, "#reply-text")
        assert box.get_attribute("value") == answer
        assert driver.execute_script("return document.activeElement.id;") == "reply-text"
        box.send_keys(" 🙂")  # the operator edits before sending
        _find(driver, "#reply-submit").click()
        sent = answer + " 🙂"
        _wait(
            driver,
            lambda d: sent in [e.text for e in _all(d, "#transcript li.msg-operator .msg-text")],
            "the reply in the transcript",
        )

        after = http.get("/api/operator/kpi/suggestions", headers=auth).json()
        assert after["from_suggestion"] == before["from_suggestion"] + 1
        topics = {u["key"]: u["replies"] for u in after["by_topic"]}
        assert topics[topic] == {u["key"]: u["replies"] for u in before["by_topic"]}.get(topic, 0) + 1
        close = http.post(
            f"/api/operator/tickets/{ticket_id}/close", headers=auth, json={"disposition": "resolved"}
        )
        assert close.status_code == 204
