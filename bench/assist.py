"""Agent assist's suggestions on held-out customer questions: how often the right FAQ answer is first or
among the three shown, how often nothing is shown, and how often a message that is no FAQ question
gets suggestions anyway, per language and for several confidence thresholds.

The same held-out fifth as bench/nlu_languages (fold 0): a model is trained on the rest with the
project's pipeline and served by the real Rasa server; each held-out line goes to /model/parse and
is ranked by handoff.assist.faq_ranking, as the operator's suggestions are. Results go to
bench/results/assist.json.

    .venv/bin/python -m bench.assist
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from app.launcher import rasa_service
from bench.nlu_languages import _ANNOTATION, LANGUAGES, split, train, write_training_data
from bench.stats import percentile
from core.rasa_auth import RasaAuth
from core.settings import PROJECT_ROOT, RasaSettings, Settings
from handoff.assist import MAX_SUGGESTIONS, MIN_CONFIDENCE, faq_ranking
from testing.ports import free_port

RESULTS = PROJECT_ROOT / "bench" / "results" / "assist.json"
THRESHOLDS = (0.05, MIN_CONFIDENCE, 0.2, 0.3, 0.5)


def shown(ranking: list[tuple[str, float]], threshold: float) -> list[str]:
    """The FAQ answers an operator would see (the order look-up aside)."""
    return [key for key, confidence in ranking if confidence >= threshold][:MAX_SUGGESTIONS]


def score(cases: list[tuple[str, list[tuple[str, float]]]], threshold: float) -> dict[str, Any]:
    """`cases`: (gold label, ranking) of each held-out line; FAQ lines are labelled faq/<topic>."""
    faq = [(gold, shown(r, threshold)) for gold, r in cases if gold.startswith("faq/")]
    other = [shown(r, threshold) for gold, r in cases if not gold.startswith("faq/")]
    return {
        "faq_questions": len(faq),
        "first_right": sum(bool(s) and s[0] == gold for gold, s in faq) / len(faq),
        "among_shown": sum(gold in s for gold, s in faq) / len(faq),
        "nothing_shown": sum(not s for _, s in faq) / len(faq),
        "other_messages": len(other),
        "other_with_suggestions": sum(bool(s) for s in other) / len(other),
    }


async def rankings(url: str, token: str, lines: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """Per language: (gold, ranking) of each line, and the parse call's latency."""
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30, auth=RasaAuth(token)) as http:
        for language, items in lines.items():
            cases, times = [], []
            for gold, text in items:
                started = time.perf_counter()
                response = await http.post("/model/parse", json={"text": text})
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                cases.append((gold, faq_ranking(response.json())))
            out[language] = {"cases": cases, "ms": times}
    return out


async def main() -> None:
    data, others = split(LANGUAGES, 0)
    held_out = {
        lang: [
            (intent, _ANNOTATION.sub(r"\1", line)) for intent, (_, test) in intents.items() for line in test
        ]
        for lang, intents in data.items()
    }
    with tempfile.TemporaryDirectory(prefix="assist-bench-") as tmp:
        work = Path(tmp)
        write_training_data(work / "data", data, others)
        model, seconds = train(work / "data", work / "models")
        print(f"trained on four fifths in {seconds:.0f} s")
        port, token = free_port(), secrets.token_urlsafe(32)
        settings = Settings(
            rasa=RasaSettings(url=f"http://127.0.0.1:{port}", token=SecretStr(token)), model_path=model
        )
        rasa = rasa_service(settings)
        rasa.start(log_to_files=True)
        try:
            rasa.wait_healthy()
            measured = await rankings(settings.rasa.url, token, held_out)
        finally:
            rasa.stop()
    results: dict[str, Any] = {"fold": 0, "max_suggestions": MAX_SUGGESTIONS, "languages": {}}
    print(f"\n{'language':<9}{'threshold':>10}{'FAQ lines':>10}{'1st right':>10}{'in top 3':>10}"
          f"{'none':>8}{'other lines':>12}{'with any':>10}")  # fmt: skip
    for language, m in measured.items():
        by_threshold = {str(t): score(m["cases"], t) for t in THRESHOLDS}
        ms = sorted(m["ms"])
        results["languages"][language] = {
            "thresholds": by_threshold,
            "parse_ms": {"p50": percentile(ms, 50), "p95": percentile(ms, 95)},
        }
        for t, s in by_threshold.items():
            print(
                f"{language:<9}{t:>10}{s['faq_questions']:>10}{s['first_right']:>10.1%}{s['among_shown']:>10.1%}"
                f"{s['nothing_shown']:>8.1%}{s['other_messages']:>12}{s['other_with_suggestions']:>10.1%}"
            )
        print(f"{language:<9} parse p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
