"""An operator's console language: chosen through the API, remembered for them, refused when unknown."""

from __future__ import annotations

import httpx

from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import FrontLine


async def _log_in(http: httpx.AsyncClient, settings: Settings, login: str) -> dict[str, str]:
    await save_operator(
        settings, login, f"{login}-secret-pw", display_name=login.title(),
        skills=["general"], languages=["en"], max_sessions=3,
    )  # fmt: skip
    response = await http.post("/api/operator/login", json={"login": login, "password": f"{login}-secret-pw"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_a_chosen_language_is_remembered_for_the_operator(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    auth = await _log_in(http, settings_without_bot, "laila")
    assert (await http.get("/api/operator/me", headers=auth)).json()["console_language"] == "en"

    chosen = await http.put("/api/operator/me/console-language", headers=auth, json={"language": "ar"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["console_language"] == "ar"
    assert (await http.get("/api/operator/me", headers=auth)).json()["console_language"] == "ar"

    # A new log-in (another browser) starts in it too: it is stored, not kept by one console.
    again = await http.post("/api/operator/login", json={"login": "laila", "password": "laila-secret-pw"})
    assert again.json()["operator"]["console_language"] == "ar"


async def test_an_unknown_language_is_refused_and_changes_nothing(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    auth = await _log_in(http, settings_without_bot, "oleg")
    await http.put("/api/operator/me/console-language", headers=auth, json={"language": "ru"})
    for language in ("de", "", "RU", "ru-RU", "x" * 100):
        refused = await http.put(
            "/api/operator/me/console-language", headers=auth, json={"language": language}
        )
        assert refused.status_code == 422, (language, refused.text)
    assert (await http.get("/api/operator/me", headers=auth)).json()["console_language"] == "ru"


async def test_one_operators_choice_leaves_colleagues_alone(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    farid = await _log_in(http, settings_without_bot, "farid")
    anna = await _log_in(http, settings_without_bot, "anna")
    await http.put("/api/operator/me/console-language", headers=farid, json={"language": "fa"})
    assert (await http.get("/api/operator/me", headers=anna)).json()["console_language"] == "en"


async def test_the_console_gets_its_texts_and_languages_without_logging_in(
    front_line_without_bot: FrontLine,
) -> None:
    http = front_line_without_bot.http
    config = (await http.get("/console/config.json")).json()
    assert {(lang["code"], lang["dir"]) for lang in config["languages"]} == {
        ("en", "ltr"), ("ru", "ltr"), ("ar", "rtl"), ("fa", "rtl"),
    }  # fmt: skip
    assert "ticket_queued" in config["live_kinds"] and "logged_out" not in config["live_kinds"]
    arabic = (await http.get("/console/texts/ar.json")).json()
    assert arabic["dir"] == "rtl" and arabic["texts"]["console.claim"] != "Claim"
    assert (await http.get("/console/texts/de.json")).status_code == 404
    for name in ("console-assist.js", "console-card.css"):
        assert (await http.get(f"/console/static/{name}")).status_code == 200
