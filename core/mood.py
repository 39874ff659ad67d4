"""The customer's mood (calm / negative / angry) read from one message: an offline lexicon per language.

Pure and fast (no model, no I/O after the first load), since it runs on every stored customer turn.
Words and phrases carry weights (upset > 0, soothing < 0) in core/data/mood/<lang>.yml; a negator
before a term ("not bad", "не плохо", "مش وحش") or after it (Persian "بد نیست") turns it round, an
intensifier ("very", "очень", "خیلی") strengthens the next term, and the way a text is typed (!!!,
CAPS, "sooooo") adds to the score. Stems match as prefixes, for Russian endings and Persian suffixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from core.kinds import Mood, MoodTrend
from core.textnorm import normalise

DATA_DIR = Path(__file__).parent / "data" / "mood"
LANGUAGES = ("en", "ru", "ar", "fa")
# Score thresholds: at or above NEGATIVE_AT a message is negative, at or above ANGRY_AT angry.
NEGATIVE_AT = 1.0
ANGRY_AT = 3.0
# How many words after an intensifier, or before a term, a modifier reaches.
REACH = 2
# A term this upset on its own is hostile: only those (and typing) make a message angry.
HOSTILE = 2.5
MILD_CAP = 2.9
# A negated upset term ("not bad") counts this much the other way; a negated soothing one fully.
NEGATED_UPSET = -0.5
_MIN_STEM = 3
# Arabic clitics written joined to the word: "والخدمه", "بالنت", "فالموضوع".
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "کال", "هال", "لل", "ال", "و", "ف", "ب", "ل")
_TOKEN = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)
_RUN = re.compile(r"(\w)\1{2,}", re.UNICODE)  # a letter typed three times or more
# Two or more ! or ? in a row ("!!", "?!", "؟؟؟"); three or more weigh more.
_EXCLAIMS = re.compile(r"[!！?？؟]{2,}")
_CASED = re.compile(r"[^\W\d_]", re.UNICODE)
# Swearing softened with stars or symbols: "f***ing", "б**дь", "s#!t", "@#$%".
_MASKED = re.compile(r"\w[*#@$%]{2,}\w*|\w\*+\w+|[@#$%&*]{4,}", re.UNICODE)


@dataclass(frozen=True)
class Lexicon:
    """One language's data, keys normalised as customer text is."""

    words: dict[str, float] = field(default_factory=dict)
    stems: dict[str, float] = field(default_factory=dict)
    phrases: dict[tuple[str, ...], float] = field(default_factory=dict)
    negators: frozenset[str] = frozenset()
    negators_after: frozenset[str] = frozenset()
    intensifiers: dict[str, float] = field(default_factory=dict)
    strip_prefixes: bool = False

    @cached_property
    def phrase_starts(self) -> dict[str, list[tuple[tuple[str, ...], float]]]:
        """Phrases by their first word, longest first."""
        starts: dict[str, list[tuple[tuple[str, ...], float]]] = {}
        for phrase, weight in sorted(self.phrases.items(), key=lambda item: -len(item[0])):
            starts.setdefault(phrase[0], []).append((phrase, weight))
        return starts

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon(
            {**other.words, **self.words},
            {**other.stems, **self.stems},
            {**other.phrases, **self.phrases},
            self.negators | other.negators,
            self.negators_after | other.negators_after,
            {**other.intensifiers, **self.intensifiers},
            self.strip_prefixes or other.strip_prefixes,
        )


@dataclass(frozen=True)
class Reading:
    """The mood of a text and the score behind it (for tuning and the bench)."""

    mood: Mood
    score: float


def classify(text: str, language: str | None = None) -> Mood:
    return read(text, language).mood


def read(text: str, language: str | None = None) -> Reading:
    """The mood of one customer message; `language` picks the lexicon (English words always count,
    since customers mix them in), unknown languages are read with every lexicon."""
    lexicon = _lexicon_for(_base(language))
    tokens = _TOKEN.findall(_norm(text))
    score = _terms_score(tokens, lexicon) + _typing_score(text)
    if score >= ANGRY_AT:
        return Reading(Mood.ANGRY, score)
    return Reading(Mood.NEGATIVE if score >= NEGATIVE_AT else Mood.CALM, score)


# How upset each mood is: a trend compares these.
LEVEL = {Mood.CALM: 0, Mood.NEGATIVE: 1, Mood.ANGRY: 2}
TREND_WINDOW = 4


def trend(moods: Sequence[Mood | str]) -> MoodTrend:
    """Over a customer's latest messages (oldest first): "rising" when the newest is more upset than
    the ones before it on average, "falling" when calmer, else "steady" (also for a single one)."""
    levels = [LEVEL[Mood(m)] for m in moods[-TREND_WINDOW:]]
    if len(levels) < 2:
        return MoodTrend.STEADY
    earlier = sum(levels[:-1]) / (len(levels) - 1)
    change = levels[-1] - earlier
    if change >= 0.5:
        return MoodTrend.RISING
    if change <= -0.5:
        return MoodTrend.FALLING
    return MoodTrend.STEADY


# --- Scoring ------------------------------------------------------------------------------------


def _terms_score(tokens: list[str], lexicon: Lexicon) -> float:
    """Hostile and soothing terms add up; merely negative ones saturate below ANGRY_AT, so a long
    complaint is not angry unless it turns hostile (or is typed so)."""
    hostile = mild = 0.0
    for clause in _clauses(tokens):
        for base, weight in _clause_terms(clause, lexicon):
            if base >= HOSTILE or weight < 0:
                hostile += weight
            else:
                mild += weight
    return hostile + min(mild, MILD_CAP) + _symbols_score(tokens)


def _clauses(tokens: list[str]) -> Iterator[list[str]]:
    """Words between punctuation: a negator or an intensifier never reaches across a comma."""
    clause: list[str] = []
    for token in tokens:
        if token[0].isalnum() or token[0] in "_'":
            clause.append(token)
        elif clause:
            yield clause
            clause = []
    if clause:
        yield clause


def _clause_terms(words: list[str], lexicon: Lexicon) -> Iterator[tuple[float, float]]:
    """(weight in the lexicon, weight here) of each term: a negator just before it (or before an
    intensifier before it: "not very good") or, in Persian, just after it turns it round."""
    free_from = 0  # modifiers are the words after the previous term, up to REACH before this one
    for start, (end, base) in _matches(words, lexicon).items():
        before = words[max(free_from, start - REACH) : start]
        boost = max((lexicon.intensifiers.get(w, 1.0) for w in before), default=1.0)
        negators = lexicon.negators
        negated = bool(before) and (
            before[-1] in negators
            or (len(before) > 1 and before[-2] in negators and before[-1] in lexicon.intensifiers)
        )
        if negated or (end < len(words) and words[end] in lexicon.negators_after):
            weight = base * NEGATED_UPSET if base > 0 else -base
        else:
            weight = base * boost
        free_from = end
        yield base, weight


def _matches(words: list[str], lexicon: Lexicon) -> dict[int, tuple[int, float]]:
    """Where each term starts -> (where it ends, its weight), in order; the longest phrase wins."""
    found: dict[int, tuple[int, float]] = {}
    i = 0
    while i < len(words):
        hit = _phrase_at(words, i, lexicon)
        if hit is None:
            weight = _word_weight(words[i], lexicon)
            hit = None if weight is None else (i + 1, weight)
        if hit is not None:
            found[i] = hit
            i = hit[0]
        else:
            i += 1
    return found


def _phrase_at(words: list[str], i: int, lexicon: Lexicon) -> tuple[int, float] | None:
    for first in {words[i], _plain(words[i])}:
        for phrase, weight in lexicon.phrase_starts.get(first, ()):
            end = i + len(phrase)
            if end <= len(words) and all(
                w == p or _plain(w) == p for w, p in zip(words[i + 1 : end], phrase[1:], strict=True)
            ):
                return end, weight
    return None


def _word_weight(word: str, lexicon: Lexicon) -> float | None:
    for candidate in _candidates(word, lexicon.strip_prefixes):
        if candidate in lexicon.words:
            return lexicon.words[candidate]
        for end in range(len(candidate), _MIN_STEM - 1, -1):
            weight = lexicon.stems.get(candidate[:end])
            if weight is not None:
                return weight
    return None


def _candidates(word: str, strip_prefixes: bool) -> Iterable[str]:
    plain = _plain(word)
    forms = [word] if plain == word else [word, _RUN.sub(r"\1\1", word), plain]
    yield from forms
    if strip_prefixes:
        for form in forms:
            for prefix in _ARABIC_PREFIXES:
                if form.startswith(prefix) and len(form) - len(prefix) >= _MIN_STEM:
                    yield form[len(prefix) :]


def _norm(text: str) -> str:
    """The project's normalisation, plus what only matters here: ё as е, a typographic apostrophe."""
    return normalise(text).replace("ё", "е").replace("\u2019", "'")


def _plain(word: str) -> str:
    """A stretched word ("sooooo", "ужасссно", "خیلیییی") with each stretched letter once."""
    return _RUN.sub(r"\1", word)


def _symbols_score(tokens: list[str]) -> float:
    common = _common()
    return sum(common.get(t, 0.0) for t in tokens)


def _typing_score(text: str) -> float:
    """How the text is typed: runs of !!, CAPS LOCK, stretched letters."""
    score = min(1.5, sum(0.75 if len(run) == 2 else 1.25 for run in _EXCLAIMS.findall(text)))
    cased = [c for c in _CASED.findall(text) if c.lower() != c.upper()]
    if len(cased) >= 8 and sum(c.isupper() for c in cased) / len(cased) > 0.7:
        score += 2.0  # shouting
    if _RUN.search(text):
        score += 0.5
    if _MASKED.search(text):
        score += 3.0
    return score


# --- Data ---------------------------------------------------------------------------------------


def _base(language: str | None) -> str | None:
    base = (language or "").split("-")[0].lower()
    return base if base in LANGUAGES else None


@lru_cache
def _lexicon_for(language: str | None) -> Lexicon:
    if language is None:
        merged = Lexicon()
        for lang in LANGUAGES:
            merged = merged.merged(load_lexicon(lang))
        return merged
    own = load_lexicon(language)
    return own if language == "en" else own.merged(load_lexicon("en"))


@lru_cache
def load_lexicon(language: str) -> Lexicon:
    raw = yaml.safe_load((DATA_DIR / f"{language}.yml").read_text(encoding="utf-8")) or {}
    words: dict[str, float] = {}
    phrases: dict[tuple[str, ...], float] = {}
    for term, weight in (raw.get("terms") or {}).items():
        key = tuple(_TOKEN.findall(_norm(str(term))))
        if len(key) == 1:
            words[key[0]] = float(weight)
        elif key:
            phrases[key] = float(weight)
    return Lexicon(
        words=words,
        stems={_norm(str(s)): float(w) for s, w in (raw.get("stems") or {}).items()},
        phrases=phrases,
        negators=frozenset(_norm(str(n)) for n in raw.get("negators") or ()),
        negators_after=frozenset(_norm(str(n)) for n in raw.get("negators_after") or ()),
        intensifiers={_norm(str(k)): float(v) for k, v in (raw.get("intensifiers") or {}).items()},
        strip_prefixes=bool(raw.get("arabic_prefixes")),
    )


@lru_cache
def _common() -> dict[str, float]:
    """Emoji and symbols, the same in every language."""
    raw = yaml.safe_load((DATA_DIR / "common.yml").read_text(encoding="utf-8")) or {}
    return {_norm(str(k)): float(v) for k, v in (raw.get("symbols") or {}).items()}
