"""The operator console in a real browser against a real server: log in, read the card, claim, reply, close.

No Rasa runs: the bot's URL is a closed port, so a customer's first message is queued for a person at
once. Headless Chromium and chromedriver come from the system (Debian's packages); nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from app.factory import create_app
from core.db import create_engine, create_session_factory
from core.models import Customer, Order
from core.settings import DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from handoff.routes import console
from tests.support import free_port, require

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path("/tmp/console.png")
LOGIN, PASSWORD, NAME = "shirin", "shirin-secret-pw", "Shirin"
PERSIAN_TEXT = "سلام، اینترنت من قطع است"
PERSIAN_NAME = "مریم احمدی"
ORDER_NUMBER = "4820193"
WAIT = 10.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app behind uvicorn on a free port, in a background thread, on a fresh SQLite database."""
    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('console') / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/console" for route in app.routes):
        app.include_router(console.router)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app server did not start")
        time.sleep(0.05)
    asyncio.run(
        save_operator(
            settings, LOGIN, PASSWORD, display_name=NAME,
            skills=["general"], languages=["en", "fa"], max_sessions=3,
        )
    )  # fmt: skip
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    require(importlib.util.find_spec("selenium") is not None, "selenium (pip install selenium==4.51.0)")
    require(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM} (apt-get install chromium)")
    require(
        shutil.which(CHROMEDRIVER) is not None,
        f"chromedriver at {CHROMEDRIVER} (apt-get install chromium-driver)",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,800", "--lang=en-GB",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    # The page itself (the viewport) gets 1280x800, whatever the window's frame takes.
    frame = driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];"
    )
    driver.set_window_size(1280 + frame[0], 800 + frame[1])
    try:
        yield driver
    finally:
        driver.quit()


async def _seed_known_customer(settings: Settings, customer: str) -> None:
    """A returning customer with a name, a phone and a past order, so the card has something to show."""
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            row = Customer(
                key=f"web:{customer}", full_name=PERSIAN_NAME, phone="+989120000042", language="fa"
            )
            db.add(row)
            await db.flush()
            db.add(
                Order(
                    number=ORDER_NUMBER, customer_id=row.id, kind="new_connection", status="received",
                    full_name=PERSIAN_NAME, phone="+989120000042", address="تهران، خیابان ولیعصر، پلاک ۱۲",
                    tariff_code="fiber-100", visit_date=date(2030, 5, 4), channel="web",
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    return waiting.until(condition, f"timed out waiting for {what}")


def _find(driver: WebDriver, css: str) -> WebElement:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _all(driver: WebDriver, css: str) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in _all(driver, css)]


def _direction(driver: WebDriver, element: WebElement) -> str:
    return str(driver.execute_script("return getComputedStyle(arguments[0]).direction;", element))


def _customer_messages(http: httpx.Client, customer: str) -> dict[str, Any]:
    response = http.get(f"/api/chat/{customer}/messages", params={"after": 0})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_console_files_and_canned_replies_are_served(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        page = http.get("/console")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (
            '<html lang="en">' in page.text and "script-src 'self'" in page.headers["content-security-policy"]
        )
        for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
            served = http.get(f"/console/static/{name}")
            assert served.status_code == 200 and served.headers["content-type"].startswith(kind), name
        for name in ("console.py", "..%2Fcanned_replies.yml", "../canned_replies.yml", "other.js"):
            assert http.get(f"/console/static/{name}").status_code == 404, name
        canned = http.get("/console/canned-replies.json")
        assert canned.status_code == 200
        replies = canned.json()
        for language in ("en", "ru", "ar", "fa"):
            assert 4 <= len(replies[language]) <= 6, language
            assert all(r["title"].strip() and r["text"].strip() for r in replies[language])


def test_an_operator_serves_a_persian_customer_in_the_browser(
    live_server: LiveServer, browser: WebDriver
) -> None:
    from selenium.webdriver.support.ui import Select

    driver = browser
    customer = f"fa-{uuid.uuid4().hex[:10]}"
    asyncio.run(_seed_known_customer(live_server.settings, customer))
    canned_fa = console.load_canned_replies()["fa"]

    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        said = http.post("/api/chat", json={"customer": customer, "text": PERSIAN_TEXT, "language": "fa"})
        assert said.status_code == 200 and said.json()["state"] == "queued", said.text
        session_id = said.json()["session_id"]
        token = http.post("/api/operator/login", json={"login": LOGIN, "password": PASSWORD}).json()["token"]
        queue = http.get("/api/operator/queue", headers={"Authorization": f"Bearer {token}"}).json()
        ticket_id = next(t["id"] for t in queue if t["session_id"] == session_id)

        # Log in through the page; the token is kept for the tab only.
        driver.get(f"{live_server.url}/console")
        _wait(driver, lambda d: _find(d, "#login-name").is_displayed(), "the log-in form")
        _find(driver, "#login-name").send_keys(LOGIN)
        _find(driver, "#login-password").send_keys("not the password")
        _find(driver, "#login-submit").click()
        _wait(
            driver, lambda d: "Wrong login or password" in _find(d, "#login-error").text, "a refused log-in"
        )
        _find(driver, "#login-password").clear()
        _find(driver, "#login-password").send_keys(PASSWORD)
        _find(driver, "#login-submit").click()
        _wait(driver, lambda d: _find(d, "#console-view").is_displayed(), "the console after log-in")
        assert driver.execute_script("return sessionStorage.getItem('frontline.console.token')")
        assert _find(driver, "#operator-name").text == NAME

        # The queue shows the waiting customer, with a waiting time that ticks.
        item_css = f'#queue button[data-ticket-id="{ticket_id}"]'
        item = _wait(driver, lambda d: (_all(d, item_css) or [None])[0], "the ticket in the queue")
        assert "Bot unavailable" in item.text and "web" in item.text and "fa" in item.text
        first_wait = _wait(driver, lambda d: _find(d, f"{item_css} .wait").text, "the waiting time")
        assert ":" in first_wait
        _wait(
            driver, lambda d: _find(d, f"{item_css} .wait").text != first_wait, "the waiting time to tick", 4
        )

        # Opening it shows the whole card before claiming: Persian text reads right-to-left.
        item.click()
        customer_css = "#transcript li.msg-customer .msg-text"
        _wait(
            driver, lambda d: PERSIAN_TEXT in _texts(d, customer_css), "the Persian message in the transcript"
        )
        message = _all(driver, customer_css)[0]
        assert message.get_attribute("dir") == "auto" and _direction(driver, message) == "rtl"
        name = _find(driver, "#customer-name")
        assert name.text == PERSIAN_NAME and name.get_attribute("dir") == "auto"
        assert _direction(driver, name) == "rtl"
        assert _direction(driver, _find(driver, "#card-reason")) == "ltr"  # English stays left-to-right
        assert ORDER_NUMBER in _find(driver, "#customer-orders").text
        assert _find(driver, "#card-reason").text == "Bot unavailable"
        assert "No slots filled." in _find(driver, "#slots").text  # the bot could not be asked
        assert _find(driver, "#claim").is_enabled() and not _find(driver, "#reply-text").is_enabled()

        # Claim: the customer is told someone joined, the reply box opens with Persian canned replies.
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the claimed state")
        _wait(
            driver, lambda d: any("has joined" in t for t in _texts(d, "#transcript li.msg-system")), "joined"
        )
        _wait(driver, lambda d: not _all(d, item_css), "the ticket to leave the queue")
        assert _all(driver, f'#mine button[data-ticket-id="{ticket_id}"]')
        canned_buttons = _all(driver, "#canned button")
        assert [b.text for b in canned_buttons] == [r.title for r in canned_fa]
        canned_buttons[0].click()
        reply_box = _find(driver, "#reply-text")
        assert reply_box.get_property("value") == canned_fa[0].text
        assert _direction(driver, reply_box) == "rtl"
        assert driver.execute_script("return [innerWidth, innerHeight];") == [1280, 800]
        overflow = driver.execute_script("return document.documentElement.scrollWidth - innerWidth;")
        assert overflow <= 0, "the page is wider than a 1280x800 window"
        for css in ("#claim", "#return-to-bot", "#disposition", "#close", "#reply-text", "#reply-submit"):
            inside = driver.execute_script(
                "const r = arguments[0].getBoundingClientRect();"
                "return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;",
                _find(driver, css),
            )
            assert inside, f"{css} is outside the 1280x800 window"
        driver.save_screenshot(str(SCREENSHOT))

        _find(driver, "#reply-submit").click()
        operator_css = "#transcript li.msg-operator .msg-text"
        _wait(driver, lambda d: canned_fa[0].text in _texts(d, operator_css), "the reply in the transcript")
        assert reply_box.get_property("value") == ""
        seen = _customer_messages(http, customer)
        assert seen["state"] == "operator"
        assert [m["text"] for m in seen["messages"] if m["author"] == "operator"] == [canned_fa[0].text]

        # The customer answers: it shows up in the open conversation without a reload.
        answer = "ممنون، منتظر می‌مانم"
        assert http.post(
            "/api/chat", json={"customer": customer, "text": answer, "language": "fa"}
        ).is_success
        _wait(driver, lambda d: answer in _texts(d, customer_css), "the customer's answer in the transcript")

        # A private note stays with the operators.
        _find(driver, "#note-text").send_keys("اتصال فیبر قطع شده؟")
        _find(driver, "#note-submit").click()
        _wait(driver, lambda d: "اتصال فیبر قطع شده؟" in _texts(d, "#notes .note-text"), "the note")
        assert all("فیبر" not in m["text"] for m in _customer_messages(http, customer)["messages"])

        # Close as resolved: the customer is told the operator left.
        Select(_find(driver, "#disposition")).select_by_value("resolved")
        _find(driver, "#close").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Closed"), "the closed state")
        assert "Resolved" in _find(driver, "#banner-text").text
        assert not _find(driver, "#reply-text").is_enabled() and not _find(driver, "#close").is_enabled()
        assert not _all(driver, f'#mine button[data-ticket-id="{ticket_id}"]')
        seen = _customer_messages(http, customer)
        assert seen["state"] == "closed"
        # The farewell, possibly followed by a rating question.
        farewell = [m["text"] for m in seen["messages"] if m["author"] == "system"][-2:]
        assert any(t.startswith(f"{NAME} has left the conversation") for t in farewell), farewell

        problems = [
            entry["message"]
            for entry in driver.get_log("browser")
            # Refused requests (the wrong password, the live stream before it exists) are logged too.
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
        ]
        assert problems == [], problems


def test_an_ended_session_and_a_lost_claim_are_explained(live_server: LiveServer, browser: WebDriver) -> None:
    """401 sends the operator back to log in; 409 says someone else claimed it."""
    driver = browser
    customer = f"en-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        said = http.post("/api/chat", json={"customer": customer, "text": "my router is blinking red"})
        session_id = said.json()["session_id"]
        asyncio.run(
            save_operator(
                live_server.settings, "omid", "omid-secret-pw", display_name="Omid",
                skills=["general"], languages=["en"], max_sessions=3,
            )
        )  # fmt: skip
        omid = http.post("/api/operator/login", json={"login": "omid", "password": "omid-secret-pw"})
        auth = {"Authorization": f"Bearer {omid.json()['token']}"}
        queue = http.get("/api/operator/queue", headers=auth).json()
        ticket_id = next(t["id"] for t in queue if t["session_id"] == session_id)

        driver.get(f"{live_server.url}/console")
        driver.execute_script("sessionStorage.setItem('frontline.console.token', 'expired-or-forged');")
        driver.refresh()
        _wait(driver, lambda d: _find(d, "#login-view").is_displayed(), "the log-in form after a 401")
        assert "log in again" in _find(driver, "#login-error").text
        assert driver.execute_script("return sessionStorage.getItem('frontline.console.token')") is None

        _find(driver, "#login-name").send_keys(LOGIN)
        _find(driver, "#login-password").send_keys(PASSWORD)
        _find(driver, "#login-submit").click()
        item_css = f'#queue button[data-ticket-id="{ticket_id}"]'
        _wait(driver, lambda d: (_all(d, item_css) or [None])[0], "the ticket in the queue").click()
        _wait(driver, lambda d: _find(d, "#claim").is_enabled(), "the ticket to load")
        assert http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=auth).status_code == 200
        # Omid was faster: the click gets a 409, unless a refresh already disabled the button; either
        # way the operator is told in plain words.
        _find(driver, "#claim").click()
        _wait(
            driver, lambda d: "Someone else claimed" in _find(d, "#banner-text").text, "the conflict message"
        )
        _wait(driver, lambda d: "Claimed by operator" in _find(d, "#ticket-status").text, "the other's claim")
        assert not _find(driver, "#reply-text").is_enabled()


# A stream that is refused at once, as a server without the live route (or a proxy that drops it) does.
REFUSED_EVENT_SOURCE = """
window.__streamAttempts = 0;
window.EventSource = class {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  constructor(url) {
    window.__streamAttempts += 1;
    this.url = url;
    this.readyState = 0;
    this.listeners = {};
    setTimeout(() => {
      this.readyState = 2;
      for (const listener of this.listeners.error || []) listener(new Event("error"));
    }, 20);
  }
  addEventListener(type, listener) {
    (this.listeners[type] = this.listeners[type] || []).push(listener);
  }
  close() {
    this.readyState = 2;
  }
};
"""


def test_without_the_live_stream_the_console_polls(live_server: LiveServer, browser: WebDriver) -> None:
    """The queue and the open conversation still update (every 3 s) when the event stream fails."""
    driver = browser
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": REFUSED_EVENT_SOURCE})
    try:
        driver.get(f"{live_server.url}/console")
        driver.execute_script("sessionStorage.clear();")
        driver.refresh()
        _wait(driver, lambda d: _find(d, "#login-name").is_displayed(), "the log-in form")
        _find(driver, "#login-name").send_keys(LOGIN)
        _find(driver, "#login-password").send_keys(PASSWORD)
        _find(driver, "#login-submit").click()
        _wait(
            driver, lambda d: _find(d, "#connection").get_attribute("data-mode") == "polling", "polling mode"
        )
        assert driver.execute_script("return window.__streamAttempts;") >= 1

        customer = f"ru-{uuid.uuid4().hex[:10]}"
        with httpx.Client(base_url=live_server.url, timeout=10) as http:
            said = http.post(
                "/api/chat", json={"customer": customer, "text": "Нет интернета", "language": "ru"}
            )
            assert said.status_code == 200 and said.json()["state"] == "queued", said.text
            token = driver.execute_script("return sessionStorage.getItem('frontline.console.token');")
            auth = {"Authorization": f"Bearer {token}"}
            queue = http.get("/api/operator/queue", headers=auth).json()
            ticket_id = next(t["id"] for t in queue if t["session_id"] == said.json()["session_id"])

            item_css = f'#queue button[data-ticket-id="{ticket_id}"]'
            _wait(driver, lambda d: (_all(d, item_css) or [None])[0], "the new ticket, by polling", 7).click()
            _wait(driver, lambda d: _find(d, "#claim").is_enabled(), "the ticket to load")
            _find(driver, "#claim").click()
            _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the claimed state")
            assert [b.text for b in _all(driver, "#canned button")] == [
                r.title for r in console.load_canned_replies()["ru"]
            ]
            assert http.post("/api/chat", json={"customer": customer, "text": "Вы здесь?"}).is_success
            customer_css = "#transcript li.msg-customer .msg-text"
            _wait(
                driver,
                lambda d: "Вы здесь?" in _texts(d, customer_css),
                "the customer's message, by polling",
                7,
            )
            assert _find(driver, "#connection").get_attribute("data-mode") == "polling"
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
