"""The customer's mood in a real browser: the queue shows each waiting customer's mood, a customer who
turns angry while waiting moves up the queue with a rising trend, and the open conversation's card
follows the mood live."""

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


def _queue_order(driver: WebDriver) -> list[int]:
    return [int(li.get_attribute("data-ticket-id")) for li in _all(driver, "#queue > li")]


def test_the_queue_and_the_card_follow_the_customers_mood(
    live_server: LiveServer,  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    driver = browser
    calm, upset = f"ru-{uuid.uuid4().hex[:10]}", f"ar-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        staff = _staff(live_server, http, LOGIN, "Lena", languages=("en", "ru", "ar"))
        calm_id = _queued(
            http, staff, calm, "здравствуйте, роутер мигает красным, посмотрите пожалуйста", "ru"
        )
        upset_id = _queued(http, staff, upset, "السلام عليكم، النت فاصل عندي من الصبح", "ar")
        _log_in(driver, live_server, LOGIN, PASSWORD)
        calm_css, upset_css = (f'#queue li[data-ticket-id="{i}"]' for i in (calm_id, upset_id))
        _wait(driver, lambda d: _all(d, f"{upset_css} .badge.mood"), "the mood badges")
        assert _find(driver, f"{calm_css} .badge.mood").text == "Calm"
        assert _find(driver, f"{upset_css} .badge.mood").text == "Calm"
        order = _queue_order(driver)
        assert order.index(calm_id) < order.index(upset_id)

        _open_from(driver, "queue", upset_id)
        line = _wait(driver, lambda d: (_all(d, "#mood-card .mood-line") or [None])[0], "the card's mood")
        assert "Calm" in line.text

        # The second customer loses patience while waiting: up the queue, angry and getting worse.
        said = _chat(http, {"customer": upset, "text": "انتو حرامية ونصابين، رجعولي فلوسي!!!"})
        assert said.status_code == 200, said.text
        _wait(
            driver,
            lambda d: _queue_order(d).index(upset_id) < _queue_order(d).index(calm_id),
            "the angry customer ahead in the queue",
        )
        badge = _wait(
            driver, lambda d: (_all(d, f"{upset_css} .badge.mood.mood-angry") or [None])[0], "the angry badge"
        )
        assert badge.text == "Angry ↑"
        assert "getting worse" in (badge.get_attribute("title") or "")
        _wait(driver, lambda d: "Angry" in _find(d, "#mood-card .mood-line").text, "the card's mood, live")
        assert "getting worse" in _find(driver, "#mood-card .mood-trend").text
        assert [e.text for e in _all(driver, "#mood-card .mood-dot")] == ["Calm", "Angry"]
        _assert_page_is_clean(driver)
