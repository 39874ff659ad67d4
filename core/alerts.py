"""Keyword alerts: phrases a supervisor wants to hear about at once ("суд", "شکایت", "lawyer"), found in
customer messages and recorded as a session event and a live event.

The phrases and the forms customers write them in are data (core/data/alerts.yml), per language. Every
form is normalised as customer text is (core/textnorm.py), so case, Arabic and Persian letter variants,
ZWNJ, diacritics and digit scripts do not matter. Everything is compiled when the app starts: a
message costs one scan for the phrases' stems, and only a message holding one is tried against the
patterns of the phrases it may hold (bench/alerts.py measures both).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import LiveEvent
from core.kinds import LiveEventKind, SessionEventKind
from core.models import ConversationSession, HandoffTicket, Message, TicketStatus
from core.repo.sessions import record_event
from core.textnorm import normalise

ALERTS_FILE = Path(__file__).parent / "data" / "alerts.yml"
WILDCARD = "*"
# A stem shorter than this with a wildcard would match half the dictionary ("с*").
MIN_STEM = 3


@dataclass(frozen=True)
class WatchedPhrase:
    """A phrase as supervisors read it and the figures count it, and the language of its list."""

    phrase: str
    language: str


class KeywordAlerts:
    """Finds watched phrases in a text; built once from the data, then only `match` per message."""

    def __init__(self, phrases: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        # Each phrase with its forms as one pattern, and the first words' stems, which any match holds.
        self._phrases: list[tuple[WatchedPhrase, re.Pattern[str], frozenset[str]]] = []
        # Language -> the script its phrases are written in ("ARABIC", "CYRILLIC", "LATIN").
        self._scripts: dict[str, str] = {}
        for language, entries in phrases.items():
            for phrase, forms in (entries or {}).items():
                self._scripts.setdefault(str(language), _script(str(phrase)))
                every = [str(f) for f in (phrase, *(forms or ()))]
                pattern = re.compile("|".join(_form_pattern(f) for f in every))
                stems = frozenset(normalise(f).split()[0].strip(WILDCARD) for f in every)
                self._phrases.append((WatchedPhrase(str(phrase), str(language)), pattern, stems))
        # One scan of plain literals (the regex engine rejects each on its first letter) rules out
        # almost every message; only a message holding a stem is tried against that stem's phrases.
        every_stem = sorted({s for _, _, stems in self._phrases for s in stems}, key=len, reverse=True)
        self._quick = re.compile("|".join(map(re.escape, every_stem))) if every_stem else None

    def __len__(self) -> int:
        return len(self._phrases)

    def match(self, text: str, language: str | None = None) -> tuple[WatchedPhrase, ...]:
        """The watched phrases in `text`, each once, in the order they first occur.

        Written in `language` (the session's), a phrase of another language in the same script is
        not one: Persian "وکیل" (lawyer) is Arabic "وكيل" (agent; "حسبي الله ونعم الوكيل") once
        normalised. Phrases in other scripts always count: the customer wrote in that language."""
        text = normalise(text)
        if self._quick is None or self._quick.search(text) is None:
            return ()
        script = self._scripts.get(language or "")
        same_script = {other for other, its in self._scripts.items() if its == script and other != language}
        found: list[tuple[int, WatchedPhrase]] = []
        for phrase, pattern, stems in self._phrases:
            if phrase.language in same_script:
                continue
            if any(stem in text for stem in stems) and (hit := pattern.search(text)) is not None:
                found.append((hit.start(), phrase))
        return tuple(phrase for _, phrase in sorted(found, key=lambda item: item[0]))


def _form_pattern(form: str) -> str:
    """'суд' -> the word alone; 'жалоб*' -> any ending; '*شتکی' -> any prefix (Arabic proclitics:
    بشتکی, حشتکی); several words -> in that order, separated by spaces or punctuation."""
    words = normalise(form).split()
    if not words:
        raise ValueError(f"an empty alert form: {form!r}")
    pieces = []
    for index, word in enumerate(words):
        stem = word.strip(WILDCARD)
        if WILDCARD in stem or not re.fullmatch(r"\w+", stem):
            raise ValueError(f"alert form {form!r}: '*' only at a word's start or end, letters between")
        if stem != word and len(stem) < MIN_STEM:
            raise ValueError(f"alert form {form!r}: a stem with '*' needs {MIN_STEM} letters or more")
        # The first word's leading and the last word's trailing wildcard are the absent boundary.
        before = r"\w*" if index and word.startswith(WILDCARD) else ""
        after = r"\w*" if index < len(words) - 1 and word.endswith(WILDCARD) else ""
        pieces.append(before + re.escape(stem) + after)
    head = "" if words[0].startswith(WILDCARD) else r"(?<!\w)"
    tail = "" if words[-1].endswith(WILDCARD) else r"(?!\w)"
    return head + r"\W+".join(pieces) + tail


def _script(phrase: str) -> str:
    """The Unicode script of a phrase's first letter ("LATIN SMALL LETTER A" -> "LATIN")."""
    letter = next((ch for ch in phrase if ch.isalpha()), "")
    return unicodedata.name(letter, "UNKNOWN").split()[0]


def load_keyword_alerts(path: Path = ALERTS_FILE) -> KeywordAlerts:
    """The alerts of a data file; a malformed one fails at start-up, not on a customer's message."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a mapping of language -> phrase -> forms expected")
    return KeywordAlerts({str(lang): dict(entries or {}) for lang, entries in raw.items()})


async def flag_message(
    db: AsyncSession, alerts: KeywordAlerts, session: ConversationSession, message: Message
) -> LiveEvent | None:
    """In the transaction storing a customer message: when it holds watched phrases, a
    `keyword_alert` session event (the figures) and the live event consoles hear (returned, for the
    caller's outbox write). Nothing is queried for a message without them."""
    found = alerts.match(message.text, session.language)
    if not found:
        return None
    await db.flush()  # the message's id goes into both events
    phrases = [{"phrase": p.phrase, "language": p.language} for p in found]
    detail = {"message_id": message.id, "phrases": phrases}
    await record_event(db, session, SessionEventKind.KEYWORD_ALERT, session.state, session.state, detail)
    ticket_id = await db.scalar(
        select(HandoffTicket.id)
        .where(HandoffTicket.session_id == session.id, HandoffTicket.status != TicketStatus.CLOSED.value)
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )
    data = {
        "session_id": session.id,  # erasing the customer erases the event too (core.outbox)
        "ticket_id": ticket_id,
        "message_id": message.id,
        "language": session.language,
        "phrases": phrases,
    }
    return LiveEvent(LiveEventKind.KEYWORD_ALERT, data)
