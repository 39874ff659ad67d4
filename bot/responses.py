"""The bot's texts per language (bot/texts/<lang>.yml) and the Rasa responses built from them.

Each language file holds the same response keys, {placeholders} and button payloads. Rasa gets one
response per key with a variation per language, chosen by the `language` slot; English (the default
language) is the variation without a condition, so an unknown language still gets an answer.

    python -m bot.responses var/rasa-data/responses.yml
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
DEFAULT_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class LanguageTexts:
    language: str
    responses: dict[str, dict[str, Any]]
    formats: dict[str, str]


def load_language(language: str, texts_dir: Path = TEXTS_DIR) -> LanguageTexts:
    raw = yaml.safe_load((texts_dir / f"{language}.yml").read_text(encoding="utf-8")) or {}
    return LanguageTexts(language, dict(raw.get("responses") or {}), dict(raw.get("formats") or {}))


def available_languages(texts_dir: Path = TEXTS_DIR) -> list[str]:
    """The default language first, then the others in name order."""
    others = sorted(p.stem for p in texts_dir.glob("*.yml") if p.stem != DEFAULT_LANGUAGE)
    return [DEFAULT_LANGUAGE, *others]


@lru_cache
def formats(language: str) -> dict[str, str]:
    """The action-side text pieces in a language, falling back to the default language per key."""
    default = load_language(DEFAULT_LANGUAGE).formats
    if language == DEFAULT_LANGUAGE or not (TEXTS_DIR / f"{language}.yml").exists():
        return default
    return {**default, **load_language(language).formats}


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def mismatches(reference: LanguageTexts, other: LanguageTexts) -> list[str]:
    """What a language file lacks or gets wrong compared with the reference: keys, placeholders, payloads."""
    problems = [f"{other.language}: missing {k}" for k in reference.responses if k not in other.responses]
    problems += [f"{other.language}: unknown {k}" for k in other.responses if k not in reference.responses]
    for key, ref in reference.responses.items():
        mine = other.responses.get(key)
        if mine is None:
            continue
        if placeholders(str(mine.get("text", ""))) != placeholders(str(ref.get("text", ""))):
            problems.append(f"{other.language}: {key} has other placeholders than {reference.language}")
        if list(mine.get("buttons") or {}) != list(ref.get("buttons") or {}):
            problems.append(f"{other.language}: {key} has other button payloads than {reference.language}")
    for key, ref_text in reference.formats.items():
        if key not in other.formats:
            problems.append(f"{other.language}: missing format {key}")
        elif placeholders(other.formats[key]) != placeholders(ref_text):
            problems.append(f"{other.language}: format {key} has other placeholders")
    return problems


def _variation(entry: dict[str, Any], language: str | None) -> dict[str, Any]:
    variation: dict[str, Any] = {"text": str(entry["text"])}
    buttons = entry.get("buttons") or {}
    if buttons:
        variation["buttons"] = [{"title": str(t), "payload": str(p)} for p, t in buttons.items()]
    if language is not None:
        variation["condition"] = [{"type": "slot", "name": "language", "value": language}]
    return variation


def rasa_responses(languages: list[LanguageTexts]) -> dict[str, list[dict[str, Any]]]:
    """One response per key: a conditioned variation per language, the default language last."""
    default, others = languages[0], languages[1:]
    responses: dict[str, list[dict[str, Any]]] = {}
    for key, entry in default.responses.items():
        variations = [_variation(o.responses[key], o.language) for o in others if key in o.responses]
        responses[key] = [*variations, _variation(entry, None)]
    return responses


def build(target: Path, texts_dir: Path = TEXTS_DIR) -> None:
    languages = [load_language(lang, texts_dir) for lang in available_languages(texts_dir)]
    problems = [p for other in languages[1:] for p in mismatches(languages[0], other)]
    if problems:
        raise SystemExit("bot texts do not match:\n  " + "\n  ".join(problems))
    document = {"version": "3.1", "responses": rasa_responses(languages)}
    target.parent.mkdir(parents=True, exist_ok=True)
    header = "# Built by `python -m bot.responses` from bot/texts/*.yml: edit those, not this file.\n"
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1_000_000)
    target.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "var/rasa-data/responses.yml"))
