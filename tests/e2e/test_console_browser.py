"""The operator console in a real browser against a real server: log in, read the card, claim, reply, close.

No Rasa runs: the bot's URL is a closed port, so a customer's first message is queued for a person at
once. The contact centre is open around the clock here, so nothing depends on the hour the tests run.
Headless Chromium and chromedriver come from the system (Debian's packages); nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from app.factory import SYSTEM_MESSAGES, create_app
from core.db import create_engine, create_session_factory
from core.messages import load_system_messages
from core.models import Customer, HandoffTicket, Message, Order
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
ALWAYS_OPEN_HOURS = """timezone: UTC
week: {mon: ["00:00-24:00"], tue: ["00:00-24:00"], wed: ["00:00-24:00"], thu: ["00:00-24:00"],
       fri: ["00:00-24:00"], sat: ["00:00-24:00"], sun: ["00:00-24:00"]}
"""
# Uncaught errors and rejected promises of the page, kept where the test can read them.
ERROR_HOOK = """
window.__pageErrors = [];
window.addEventListener("error", (e) => window.__pageErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.__pageErrors.push(String(e.reason)));
"""
# Bidi isolates the translated system messages put around names and numbers: invisible, not compared.
ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@contextlib.contextmanager
def _serve(folder: Path, **overrides: Any) -> Iterator[LiveServer]:
    """The app behind uvicorn on a free port, in a background thread, on a fresh SQLite database."""
    hours = folder / "hours.yml"
    hours.write_text(ALWAYS_OPEN_HOURS, encoding="utf-8")
    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{folder / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
        hours_path=hours,
        **overrides,
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
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with _serve(tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture(scope="module")
def offering_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second app that offers each waiting session to the longest-idle online operator."""
    with _serve(tmp_path_factory.mktemp("offers"), auto_offer=True, offer_timeout_seconds=20) as server:
        yield server


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
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
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


def _values(driver: WebDriver, css: str, attribute: str = "value") -> list[str]:
    """An attribute of every matching element, read again if the list is redrawn meanwhile."""
    return _wait(driver, lambda d: [e.get_attribute(attribute) for e in _all(d, css)] or None, css)


def _text_and_classes(driver: WebDriver, css: str) -> tuple[str, list[str]] | None:
    found = _all(driver, css)
    return (found[0].text, found[0].get_attribute("class").split()) if found else None


def _click(driver: WebDriver, css: str, what: str) -> None:
    """Clicks the element, found again if it was redrawn between finding and clicking."""

    def clicked(d: WebDriver) -> bool:
        found = _all(d, css)
        if found:
            found[0].click()
        return bool(found)

    _wait(driver, clicked, what)


def _choose(driver: WebDriver, css: str, value: str) -> None:
    """Selects an option of a list that is redrawn while open (the transfer dialog's colleagues)."""
    from selenium.webdriver.support.ui import Select

    _wait(driver, lambda d: Select(_find(d, css)).select_by_value(value) or True, f"{value} in {css}")


def _texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in _all(driver, css)]


def _direction(driver: WebDriver, element: WebElement) -> str:
    return str(driver.execute_script("return getComputedStyle(arguments[0]).direction;", element))


def _system_text(key: str, language: str, **values: str) -> str:
    """A system message as the app sends it, without its invisible bidi isolates."""
    return _plain(load_system_messages(SYSTEM_MESSAGES, "en").get(key, language, **values))


def _plain(text: str) -> str:
    return text.translate(ISOLATES)


_TOKENS: dict[str, str] = {}  # customer id -> the token its first turn was given


def _auth(customer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_TOKENS[customer]}"} if customer in _TOKENS else {}


def _chat(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    """A customer's turn through the chat API, as a widget sends it (with the conversation's token)."""
    customer = str(body["customer"])
    response = http.post("/api/chat", json=body, headers=_auth(customer))
    if response.is_success and response.json().get("token"):
        _TOKENS[customer] = response.json()["token"]
    return response


def _customer_messages(http: httpx.Client, customer: str) -> dict[str, Any]:
    response = http.get(f"/api/chat/{customer}/messages", params={"after": 0}, headers=_auth(customer))
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
        said = _chat(http, {"customer": customer, "text": PERSIAN_TEXT, "language": "fa"})
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
        joined = _system_text("operator_joined", "fa", name=NAME)
        _wait(
            driver,
            lambda d: joined in map(_plain, _texts(d, "#transcript li.msg-system .msg-text")),
            "joined",
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
        assert _chat(http, {"customer": customer, "text": answer, "language": "fa"}).is_success
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
        farewell = [_plain(m["text"]) for m in seen["messages"] if m["author"] == "system"][-2:]
        assert _system_text("operator_left", "fa", name=NAME) in farewell, farewell

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
        said = _chat(http, {"customer": customer, "text": "my router is blinking red"})
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
            said = _chat(http, {"customer": customer, "text": "Нет интернета", "language": "ru"})
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
            assert _chat(http, {"customer": customer, "text": "Вы здесь?"}).is_success
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


# ---------------------------------------------------------------- figures, transfers, callbacks, offers


@dataclass(frozen=True)
class Staff:
    id: int
    login: str
    password: str
    auth: dict[str, str]


def _staff(
    server: LiveServer,
    http: httpx.Client,
    login: str,
    name: str,
    *,
    skills: tuple[str, ...] = ("general",),
    languages: tuple[str, ...] = ("en",),
) -> Staff:
    """An operator (created, or updated when the login exists) and a token for the API."""
    password = f"{login}-secret-pw"
    asyncio.run(
        save_operator(
            server.settings, login, password, display_name=name,
            skills=list(skills), languages=list(languages), max_sessions=3,
        )
    )  # fmt: skip
    body = http.post("/api/operator/login", json={"login": login, "password": password}).json()
    return Staff(body["operator"]["id"], login, password, {"Authorization": f"Bearer {body['token']}"})


def _queued(http: httpx.Client, staff: Staff, customer: str, text: str, language: str = "en") -> int:
    """A customer's first message (the bot is down, so it waits for a person); returns the ticket id."""
    said = _chat(http, {"customer": customer, "text": text, "language": language})
    assert said.status_code == 200 and said.json()["state"] == "queued", said.text
    session_id = said.json()["session_id"]
    for ticket in http.get("/api/operator/queue", headers=staff.auth).json():
        if ticket["session_id"] == session_id:
            return int(ticket["id"])
    raise AssertionError(f"session {session_id} is not in the queue")


def _log_in(driver: WebDriver, server: LiveServer, login: str, password: str) -> None:
    """A fresh tab session, logged in through the form, with the live stream open."""
    driver.get(f"{server.url}/console")
    driver.execute_script("sessionStorage.clear();")
    driver.refresh()
    _wait(driver, lambda d: _find(d, "#login-name").is_displayed(), "the log-in form")
    _find(driver, "#login-name").send_keys(login)
    _find(driver, "#login-password").send_keys(password)
    _find(driver, "#login-submit").click()
    _wait(driver, lambda d: _find(d, "#console-view").is_displayed(), "the console after log-in")
    _wait(driver, lambda d: _find(d, "#connection").get_attribute("data-mode") == "live", "the live stream")


def _assert_page_is_clean(driver: WebDriver) -> None:
    """No uncaught error or rejected promise in the page, nothing severe in the browser's log."""
    assert driver.execute_script("return window.__pageErrors;") == []
    problems = [
        entry["message"]
        for entry in driver.get_log("browser")
        # Refused requests (a 409 on a lost claim, a 403 transfer) are logged by the browser itself.
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    assert problems == [], problems


def _open_from(driver: WebDriver, list_id: str, ticket_id: int) -> None:
    css = f'#{list_id} button[data-ticket-id="{ticket_id}"]'
    _wait(driver, lambda d: (_all(d, css) or [None])[0], f"ticket {ticket_id} in #{list_id}").click()
    _wait(driver, lambda d: _find(d, "#ticket-status").text not in ("", "loading…"), "the ticket to load")


def _cell(driver: WebDriver, row_css: str, figure: str) -> str:
    return _find(driver, f'{row_css} td[data-figure="{figure}"]').text


def test_the_figures_show_a_session_an_operator_handled(live_server: LiveServer, browser: WebDriver) -> None:
    """Answered, abandonment, service level and satisfaction of one claimed-and-closed session."""
    from selenium.webdriver.support.ui import Select

    driver = browser
    customer = f"kpi-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        farida = _staff(live_server, http, "farida", "فریده رحیمی", languages=("en", "fa"))
        ticket_id = _queued(http, farida, customer, "I was charged twice this month")
        tickets = f"/api/operator/tickets/{ticket_id}"
        assert http.post(f"{tickets}/claim", headers=farida.auth).status_code == 200
        closed = http.post(f"{tickets}/close", json={"disposition": "resolved"}, headers=farida.auth)
        assert closed.status_code == 204, closed.text
        rated = _chat(http, {"customer": customer, "text": "5"})
        assert rated.status_code == 200, rated.text

        _log_in(driver, live_server, LOGIN, PASSWORD)
        _find(driver, "#tab-figures").click()
        _wait(driver, lambda d: _find(d, "#figures-view").is_displayed(), "the figures view")
        assert not _find(driver, "#conversations-view").is_displayed()
        answered_css = '#figures-total [data-figure="claimed"] .figure-value'
        _wait(driver, lambda d: (_all(d, answered_css) or [None])[0], "the day's figures")
        # The same period the page asked for: since the browser's local midnight.
        since = driver.execute_script("const d = new Date(); d.setHours(0, 0, 0, 0); return d.toISOString();")
        total = http.get("/api/operator/kpi", params={"since": since}, headers=farida.auth).json()["total"]
        assert _find(driver, answered_css).text == str(total["claimed"]) and total["claimed"] >= 1

        # By operator: Farida's row holds exactly the session of this test.
        Select(_find(driver, "#figures-group")).select_by_value("operator")
        row = f'#figures-rows tr[data-key="{farida.id}"]'
        _wait(driver, lambda d: _all(d, row), "Farida's row")
        assert _find(driver, f"{row} th").text == "فریده رحیمی"
        assert _direction(driver, _find(driver, f"{row} th")) == "rtl"
        assert _cell(driver, row, "claimed") == "1" and _cell(driver, row, "abandoned") == "0"
        assert _cell(driver, row, "abandonment_rate") == "0%"
        assert _cell(driver, row, "service_level") == "100%"  # answered at once, well within 20 s
        assert _cell(driver, row, "satisfaction_mean") == "5 / 5 (1)"
        assert _cell(driver, row, "average_speed_of_answer_seconds").endswith(" s")
        # A close counts for first-contact resolution only after 24 h without a new contact.
        assert _cell(driver, row, "first_contact_resolution") == "—"

        Select(_find(driver, "#figures-period")).select_by_value("week")
        _wait(driver, lambda d: "updated" in _find(d, "#figures-updated").text, "the week's figures")
        assert _cell(driver, row, "claimed") == "1"
        _find(driver, "#tab-conversations").click()
        assert _find(driver, "#conversations-view").is_displayed()
        assert not _find(driver, "#figures-view").is_displayed()
    _assert_page_is_clean(driver)


def test_a_conversation_is_transferred_to_a_colleague(live_server: LiveServer, browser: WebDriver) -> None:

    driver = browser
    customer = f"tr-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        anna = _staff(live_server, http, "anna", "Anna", skills=("general", "billing"))
        bilal = _staff(
            live_server, http, "bilal", "بلال حداد", skills=("technical", "roaming"), languages=("ar",)
        )
        ticket_id = _queued(http, anna, customer, "My invoice shows a roaming fee")
        _log_in(driver, live_server, anna.login, anna.password)
        _open_from(driver, "queue", ticket_id)
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the claimed state")

        _find(driver, "#transfer").click()
        _wait(driver, lambda d: _find(d, "#transfer-dialog").get_attribute("open") is not None, "the dialog")
        targets = _values(driver, "#transfer-target option")
        assert "operator:bilal" in targets and "operator:anna" not in targets  # never to oneself
        # Colleagues who have the console open come first: Bilal opens it now.
        assert targets[0] != "operator:bilal"
        _keep_online(live_server, bilal)
        # Online colleagues come first. A colleague whose console closed in an earlier test may still
        # count as online for presence's time-to-live, so Bilal need not be the very first of them.
        people = "#transfer-target optgroup option"

        def bilal_with_the_online(d: WebDriver) -> bool:
            options = _all(d, people)
            values = [o.get_attribute("value") for o in options]
            if "operator:bilal" not in values:
                return False
            return all(o.text.endswith("online") for o in options[: values.index("operator:bilal") + 1])

        _wait(driver, bilal_with_the_online, "Bilal online, before every offline colleague")
        bilal_css = f'{people}[value="operator:bilal"]'
        assert _wait(driver, lambda d: _direction(d, _find(d, bilal_css)), "Bilal's option") == "rtl"
        targets = _values(driver, "#transfer-target option")
        topics = {"topic:orders", "topic:technical", "topic:billing", "topic:general", "topic:roaming"}
        assert topics <= set(targets) and "topic:all" not in targets

        # Meanwhile the conversation went back to the queue (another tab of Anna's): the API refuses,
        # and the dialog says why in the API's words.
        moved = http.post(
            f"/api/operator/tickets/{ticket_id}/transfer", json={"to_topic": "billing"}, headers=anna.auth
        )
        assert moved.status_code == 200, moved.text
        _choose(driver, "#transfer-target", "operator:bilal")
        _find(driver, "#transfer-submit").click()
        _wait(driver, lambda d: _find(d, "#transfer-error").is_displayed(), "the refusal")
        assert "claim the ticket first" in _find(driver, "#transfer-error").text
        _find(driver, "#transfer-cancel").click()

        # Claimed again from the queue, then handed to Bilal.
        _wait(driver, lambda d: _find(d, "#claim").is_enabled(), "the ticket to wait again")
        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the claimed state")
        _find(driver, "#transfer").click()
        _choose(driver, "#transfer-target", "operator:bilal")
        _find(driver, "#transfer-submit").click()
        _wait(driver, lambda d: "transferred to بلال حداد" in _find(d, "#banner-text").text, "the banner")
        assert _find(driver, "#transfer-dialog").get_attribute("open") is None

        ticket = http.get(f"/api/operator/tickets/{ticket_id}", headers=bilal.auth).json()["ticket"]
        assert ticket["status"] == "assigned" and ticket["operator_id"] == bilal.id
        _wait(driver, lambda d: "بلال حداد" in _find(d, "#ticket-status").text, "Bilal's name in the status")
        assert not _find(driver, "#reply-text").is_enabled() and not _find(driver, "#transfer").is_enabled()
        assert not _all(driver, f'#mine button[data-ticket-id="{ticket_id}"]')
        system = [_plain(m["text"]) for m in _customer_messages(http, customer)["messages"]]
        assert _system_text("transferred", "en") in system
    _assert_page_is_clean(driver)


def _book_callback(http: httpx.Client, staff: Staff, customer: str, phone: str) -> int:
    """A waiting customer presses "call me back" and leaves a number: the wait becomes a callback task."""
    ticket_id = _queued(http, staff, customer, "Please call me back")
    assert _chat(http, {"customer": customer, "text": "/callback"}).is_success
    booked = _chat(http, {"customer": customer, "text": phone})
    assert booked.status_code == 200 and booked.json()["state"] == "closed", booked.text
    return ticket_id


async def _move_callback(settings: Settings, ticket_id: int, later: timedelta) -> None:
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            ticket = await db.get(HandoffTicket, ticket_id)
            assert ticket is not None and ticket.callback_after is not None
            ticket.callback_after = ticket.callback_after + later
    finally:
        await engine.dispose()


def test_a_callback_task_is_claimed_and_closed(live_server: LiveServer, browser: WebDriver) -> None:
    """A waiting customer asks to be called back; the task shows its number to dial, then is done."""
    from selenium.webdriver.support.ui import Select

    driver = browser
    customer = f"cb-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        shirin = _staff(live_server, http, LOGIN, NAME, languages=("en", "fa"))
        assert shirin.password == PASSWORD
        ticket_id = _book_callback(http, shirin, customer, "+7 912 345-67-89")
        # A second task, booked for tomorrow (as out of hours): listed as "later", after the due one.
        later_id = _book_callback(http, shirin, f"cb-{uuid.uuid4().hex[:10]}", "+98 912 000 11 22")
        asyncio.run(_move_callback(live_server.settings, later_id, timedelta(days=1)))

        _log_in(driver, live_server, LOGIN, PASSWORD)
        item_css = f'#callbacks button[data-ticket-id="{ticket_id}"]'
        # The list is drawn again as waiting times change: each element is read inside a wait.
        text, classes = _wait(driver, lambda d: _text_and_classes(d, item_css), "the task under Callbacks")
        assert "+79123456789" in text and "due" in classes
        assert "Bot unavailable" in text and "en" in text
        later_css = f'#callbacks button[data-ticket-id="{later_id}"]'
        text, classes = _wait(driver, lambda d: _text_and_classes(d, later_css), "the later task")
        assert "later" in classes and "+989120001122" in text
        order = [int(v) for v in _values(driver, "#callbacks button", "data-ticket-id")]
        assert order.index(ticket_id) < order.index(later_id)
        assert not _all(driver, f'#queue button[data-ticket-id="{ticket_id}"]')  # not a waiting chat

        _click(driver, item_css, "the task under Callbacks")
        _wait(driver, lambda d: _find(d, "#callback-panel").is_displayed(), "the number to call")
        phone = _find(driver, "#callback-phone")
        assert phone.text == "+79123456789" and phone.get_attribute("href") == "tel:+79123456789"
        assert _find(driver, "#ticket-heading").text.startswith(f"Callback #{ticket_id}")
        # No chat to answer and nothing to give back to the bot: those controls are gone.
        assert not _find(driver, "#composer").is_displayed()
        assert not _find(driver, "#return-to-bot").is_displayed()

        _find(driver, "#claim").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the claimed task")
        _wait(driver, lambda d: "yours" in _find(d, item_css).text, "the task marked as mine")
        Select(_find(driver, "#disposition")).select_by_value("resolved")
        _find(driver, "#close").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Closed"), "the closed task")
        _wait(driver, lambda d: not _all(d, item_css), "the task to leave the list")
        done = http.get("/api/operator/callbacks", params={"include_closed": "true"}, headers=shirin.auth)
        assert {t["id"]: t["status"] for t in done.json()}[ticket_id] == "closed"
    _assert_page_is_clean(driver)


async def _add_attachment(settings: Settings, session_id: int, media: dict[str, Any]) -> None:
    """A file the customer sent, as a channel stores it (the web chat API takes text only)."""
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            text = f"[{media['kind']}] {media.get('caption', '')}".strip()
            db.add(
                Message(
                    session_id=session_id,
                    direction="in",
                    author="customer",
                    text=text,
                    payload={"media": media},
                )
            )
    finally:
        await engine.dispose()


def test_an_arabic_customer_reads_right_to_left_with_buttons_and_attachments(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    driver = browser
    customer = f"ar-{uuid.uuid4().hex[:10]}"
    arabic = "مرحبا، الإنترنت لا يعمل منذ الصباح"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        shirin = _staff(live_server, http, LOGIN, NAME, languages=("en", "fa"))
        ticket_id = _queued(http, shirin, customer, arabic, language="ar")
        session_id = http.get(f"/api/operator/tickets/{ticket_id}", headers=shirin.auth).json()["ticket"][
            "session_id"
        ]
        # The file link is an operator route: here one whose answer shows whose token fetched it.
        media = {
            "kind": "document",
            "url": "/api/operator/me",
            "file_name": "فاتورة.json",
            "caption": "الفاتورة",
        }
        asyncio.run(_add_attachment(live_server.settings, session_id, media))

        _log_in(driver, live_server, LOGIN, PASSWORD)
        _open_from(driver, "queue", ticket_id)
        customer_css = "#transcript li.msg-customer .msg-text"
        _wait(driver, lambda d: arabic in _texts(d, customer_css), "the Arabic message")
        message = _all(driver, customer_css)[0]
        assert message.get_attribute("dir") == "auto" and _direction(driver, message) == "rtl"

        # The queue notice showed the customer a button: it is listed, right-to-left, under the message.
        back = _system_text("back_to_bot_button", "ar")
        chips = _wait(driver, lambda d: _all(d, "#transcript li.msg-system .chip"), "the buttons shown")
        assert back in [c.text for c in chips] and _direction(driver, chips[0]) == "rtl"

        line = _find(driver, "#transcript li.msg-customer .attachment")
        assert line.find_element("css selector", ".attachment-kind").text == "Document"
        about = line.find_element("css selector", ".attachment-about")
        assert "فاتورة.json" in about.text and _direction(driver, about) == "rtl"
        overflow = driver.execute_script("return document.documentElement.scrollWidth - innerWidth;")
        assert overflow <= 0, "Arabic text made the page wider than the window"

        # Download: fetched with the operator's token, saved under the customer's file name.
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
        )
        line.find_element("css selector", "button").click()
        saved = tmp_path / "فاتورة.json"
        _wait(driver, lambda d: saved.exists() and saved.stat().st_size > 0, "the downloaded file")
        assert json.loads(saved.read_text(encoding="utf-8"))["login"] == LOGIN
    _assert_page_is_clean(driver)


def _keep_online(server: LiveServer, staff: Staff) -> None:
    """A colleague with the console open elsewhere (an open live stream is what makes one online),
    until the server stops at the end of the module."""
    token = staff.auth["Authorization"].removeprefix("Bearer ")
    connected = threading.Event()

    def listen() -> None:
        url = f"{server.url}/api/operator/events"
        ticket = httpx.post(f"{url}/ticket", headers={"Authorization": f"Bearer {token}"}).json()["ticket"]
        timeout = httpx.Timeout(10, read=None)
        # The server closing the stream when it stops is the expected end.
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("GET", url, params={"ticket": ticket}, timeout=timeout) as stream,
        ):
            for _line in stream.iter_lines():
                connected.set()

    threading.Thread(target=listen, name=f"online-{staff.login}", daemon=True).start()
    assert connected.wait(WAIT), f"{staff.login}'s live stream did not open"


def test_offers_to_me_and_to_a_colleague(offering_server: LiveServer, browser: WebDriver) -> None:
    """Offered to me: highlighted with Accept and a banner. Offered to a colleague: claiming is refused
    for a few seconds, in the API's words."""
    driver = browser
    server = offering_server
    with httpx.Client(base_url=server.url, timeout=10) as http:
        nadia = _staff(server, http, "nadia", "Nadia", languages=("en",))
        ruslan = _staff(server, http, "ruslan", "Руслан", languages=("ru",))
        _log_in(driver, server, nadia.login, nadia.password)
        _keep_online(server, ruslan)
        mine = _queued(http, nadia, f"of-{uuid.uuid4().hex[:10]}", "I need a person please")
        item_css = f'#queue li[data-ticket-id="{mine}"]'
        _wait(driver, lambda d: "Offered to you" in _find(d, f"{item_css} .offer").text, "the offer to me")
        assert _find(driver, f"{item_css} .accept").is_displayed()
        _wait(driver, lambda d: _find(d, "#banner-accept").is_displayed(), "the offer banner")
        assert f"#{mine}" in _find(driver, "#banner-text").text

        theirs = _queued(http, nadia, f"of-{uuid.uuid4().hex[:10]}", "Мне нужен оператор", "ru")
        other_css = f'#queue li[data-ticket-id="{theirs}"]'
        _wait(
            driver,
            lambda d: "Offered to a colleague" in _find(d, f"{other_css} .offer").text,
            "the colleague's offer",
        )
        assert not _find(driver, f"{other_css} .accept").is_displayed()
        _open_from(driver, "queue", theirs)
        _find(driver, "#claim").click()
        _wait(
            driver,
            lambda d: "Offered to a colleague for a few seconds" in _find(d, "#banner-text").text,
            "the refusal",
        )
        ticket = http.get(f"/api/operator/tickets/{theirs}", headers=nadia.auth).json()["ticket"]
        assert ticket["status"] == "queued" and ticket["offered_to"] == ruslan.id

        # Accepting mine from the queue claims it.
        _find(driver, f"{item_css} .accept").click()
        _wait(driver, lambda d: _find(d, "#ticket-status").text.startswith("Yours"), "the accepted offer")
        _wait(driver, lambda d: not _all(d, item_css), "the accepted ticket to leave the queue")
        ticket = http.get(f"/api/operator/tickets/{mine}", headers=nadia.auth).json()["ticket"]
        assert ticket["status"] == "assigned" and ticket["operator_id"] == nadia.id
    _assert_page_is_clean(driver)
