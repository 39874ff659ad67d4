"""The mood classifier (core/mood.py) on the labelled customer messages of each language.

Prints, per language, the accuracy, each label's precision / recall / F1, the macro F1, where the
misses went (a confusion matrix: rows are the true label) and the time one message takes (median
and p99, in microseconds). Run with `.venv/bin/python -m bench.mood [--show-misses]`; results also
go to bench/results/mood.json. The sets (tests/data/mood/<lang>.yml) were written by the same hand
as the lexicon, though never from it: treat the figures as an upper bound for real traffic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from core.kinds import Mood
from core.mood import LANGUAGES, read
from core.settings import PROJECT_ROOT

SETS = PROJECT_ROOT / "tests" / "data" / "mood"
RESULTS = PROJECT_ROOT / "bench" / "results" / "mood.json"
LABELS = tuple(Mood)
REPEATS = 20  # timing: each message classified this many times


@dataclass(frozen=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class LanguageResult:
    language: str
    messages: int
    accuracy: float
    macro_f1: float
    labels: dict[str, LabelScore]
    confusion: dict[str, dict[str, int]]
    median_us: float
    p99_us: float


def load_set(language: str, folder: Path = SETS) -> list[tuple[str, Mood]]:
    raw = yaml.safe_load((folder / f"{language}.yml").read_text(encoding="utf-8")) or {}
    return [(str(text), Mood(label)) for label, texts in raw.items() for text in texts or ()]


def evaluate(language: str, show_misses: bool = False) -> LanguageResult:
    rows = load_set(language)
    confusion = {t: dict.fromkeys(map(str, LABELS), 0) for t in map(str, LABELS)}
    for text, truth in rows:
        got = read(text, language)
        confusion[truth][got.mood] += 1
        if show_misses and got.mood != truth:
            print(f"  {language} {truth:>8} -> {got.mood:<8} {got.score:5.2f}  {text}")
    labels = {str(m): _label_score(confusion, m) for m in LABELS}
    correct = sum(confusion[m][m] for m in map(str, LABELS))
    timings = _timings(language, [text for text, _ in rows])
    return LanguageResult(
        language=language,
        messages=len(rows),
        accuracy=correct / len(rows),
        macro_f1=statistics.fmean(s.f1 for s in labels.values()),
        labels=labels,
        confusion=confusion,
        median_us=statistics.median(timings),
        p99_us=statistics.quantiles(timings, n=100)[98],
    )


def _label_score(confusion: dict[str, dict[str, int]], label: Mood) -> LabelScore:
    hits = confusion[label][label]
    predicted = sum(row[label] for row in confusion.values())
    support = sum(confusion[label].values())
    precision = hits / predicted if predicted else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScore(precision, recall, f1, support)


def _timings(language: str, texts: list[str]) -> list[float]:
    read(texts[0], language)  # the lexicon loads once, on the first call
    out = []
    for _ in range(REPEATS):
        for text in texts:
            start = time.perf_counter()
            read(text, language)
            out.append((time.perf_counter() - start) * 1e6)
    return out


def _print(result: LanguageResult) -> None:
    f1s = "  ".join(f"{label} F1 {s.f1:.2f}" for label, s in result.labels.items())
    print(
        f"{result.language}: {result.messages} messages, accuracy {result.accuracy:.2f}, "
        f"macro F1 {result.macro_f1:.2f} ({f1s}); "
        f"{result.median_us:.0f} µs median, {result.p99_us:.0f} µs p99 per message"
    )
    for truth, row in result.confusion.items():
        print(f"    {truth:>8} -> " + "  ".join(f"{got} {n:2d}" for got, n in row.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="print each misread message")
    args = parser.parse_args()
    results = [evaluate(lang, args.show_misses) for lang in LANGUAGES]
    for result in results:
        _print(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
