"""Keyword alerts (core/alerts.py): what the matcher costs a customer message, and what it flags.

On the labelled customer messages of the mood classifier (tests/data/mood/<lang>.yml: calm, negative,
angry, as customers write to a provider), per language: the time one message takes through the
normalisation alone (which the turn path does anyway) and through the whole match (normalisation
included), median and p99 in microseconds, side by side in one run; and the share of each label's
messages that would flag the conversation. Calm messages that flag are the false alarms a
supervisor would see; `--show` prints every flagged message with its phrases.

    .venv/bin/python -m bench.alerts [--show]

Results also go to bench/results/alerts.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from core.alerts import load_keyword_alerts
from core.settings import PROJECT_ROOT
from core.textnorm import normalise

SETS = PROJECT_ROOT / "tests" / "data" / "mood"
RESULTS = PROJECT_ROOT / "bench" / "results" / "alerts.json"
LANGUAGES = ("en", "ru", "ar", "fa")
REPEATS = 50  # each message is timed this many times; the median of those is its time


@dataclass(frozen=True)
class LanguageResult:
    language: str
    messages: int
    normalise_median_us: float
    normalise_p99_us: float
    match_median_us: float
    match_p99_us: float
    flagged_share: dict[str, float]  # label -> share of its messages that flag


def _per_message_us(texts: list[str], work: Callable[[str], object]) -> list[float]:
    times = []
    for text in texts:
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter_ns()
            work(text)
            runs.append(time.perf_counter_ns() - start)
        times.append(statistics.median(runs) / 1000)
    return times


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def evaluate(language: str, folder: Path = SETS, show: bool = False) -> LanguageResult:
    alerts = load_keyword_alerts()
    raw = yaml.safe_load((folder / f"{language}.yml").read_text(encoding="utf-8")) or {}
    by_label = {str(label): [str(t) for t in texts or ()] for label, texts in raw.items()}
    texts = [t for group in by_label.values() for t in group]
    # Side by side: the normalisation the turn path already does, then the whole match.
    plain = _per_message_us(texts, normalise)
    matched = _per_message_us(texts, lambda text: alerts.match(text, language))
    shares = {}
    for label, group in by_label.items():
        hits = [(t, alerts.match(t, language)) for t in group]
        flagged = [(t, found) for t, found in hits if found]
        shares[label] = round(len(flagged) / len(group), 3) if group else 0.0
        if show:
            for text, found in flagged:
                print(f"  {language} {label:8} {', '.join(p.phrase for p in found):24} {text}")
    return LanguageResult(
        language=language,
        messages=len(texts),
        normalise_median_us=round(statistics.median(plain), 1),
        normalise_p99_us=round(_p99(plain), 1),
        match_median_us=round(statistics.median(matched), 1),
        match_p99_us=round(_p99(matched), 1),
        flagged_share=shares,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every flagged message")
    args = parser.parse_args(argv)
    results = [evaluate(language, show=args.show) for language in LANGUAGES]
    print(f"{'lang':4} {'msgs':>4} {'normalise µs p50/p99':>22} {'match µs p50/p99':>18}  flagged share")
    for r in results:
        shares = "  ".join(f"{label} {share:.0%}" for label, share in r.flagged_share.items())
        print(
            f"{r.language:4} {r.messages:4} {r.normalise_median_us:12.1f} /{r.normalise_p99_us:7.1f}"
            f" {r.match_median_us:9.1f} /{r.match_p99_us:7.1f}  {shares}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) for r in results]
    RESULTS.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
