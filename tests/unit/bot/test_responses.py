"""Every bot reply exists in every language, with the same placeholders and buttons, picked by language."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.responses import available_languages, build, load_language, mismatches

LANGUAGES = available_languages()


def test_the_bot_speaks_the_four_languages_of_the_centres() -> None:
    assert set(LANGUAGES) >= {"en", "ru", "ar", "fa"} and LANGUAGES[0] == "en"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_reply_is_translated_with_the_same_placeholders_and_buttons(language: str) -> None:
    assert mismatches(load_language("en"), load_language(language)) == []


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_values_in_right_to_left_replies_are_isolated(language: str) -> None:
    texts = load_language(language).responses
    assert "\u2068{order_number}\u2069" in texts["utter_order_saved"]["text"]
    assert "\u2068{phone}\u2069" in texts["utter_order_readback"]["text"]


def test_replies_are_built_with_a_variation_per_language(tmp_path: Path) -> None:
    target = tmp_path / "responses.yml"
    build(target)
    responses = yaml.safe_load(target.read_text(encoding="utf-8"))["responses"]
    greet = responses["utter_greet"]
    conditions = [v.get("condition", [{}])[0].get("value") for v in greet]
    assert conditions == [*LANGUAGES[1:], None]  # English last, unconditioned: the default
    russian = greet[conditions.index("ru")]
    assert russian["text"] == load_language("ru").responses["utter_greet"]["text"]
    assert [b["payload"] for b in russian["buttons"]] == [b["payload"] for b in greet[-1]["buttons"]]
    assert "utter_faq/working_hours" in responses


def test_a_language_file_with_a_missing_reply_is_refused(tmp_path: Path) -> None:
    english = (Path(__file__).parents[3] / "bot" / "texts" / "en.yml").read_text(encoding="utf-8")
    (tmp_path / "en.yml").write_text(english, encoding="utf-8")
    broken = yaml.safe_load(english)
    del broken["responses"]["utter_greet"]
    broken["responses"]["utter_goodbye"]["text"] = "Bye {name}"
    (tmp_path / "xx.yml").write_text(
        yaml.safe_dump(broken, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    with pytest.raises(SystemExit, match="xx: missing utter_greet"):
        build(tmp_path / "out.yml", tmp_path)
    assert mismatches(load_language("en", tmp_path), load_language("xx", tmp_path)) == [
        "xx: missing utter_greet",
        "xx: utter_goodbye has other placeholders than en",
    ]
