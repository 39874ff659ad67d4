"""Intent accuracy and macro F1 per language on held-out examples, with training time and model size.

A fixed-seed split keeps a fifth of each intent's examples in every language out of training (each
language's intent is shuffled on its own, so new examples in one do not reshuffle the others); an
NLU model is trained on the rest with the project's own pipeline, served by the real Rasa server,
and asked about each held-out example. FAQ topics count as intents of their own (faq/<topic>, from
the response selector). `--per-language` also trains one model per language on the same split, to
compare one shared model with a model per language. `--folds 5` trains five models, each holding out
a different fifth, and reports the mean: every example is held out once, so the figure depends far
less on which lines a single split happened to hold out (one split moved Arabic by up to ±2 points).
Results go to bench/results/nlu_languages.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from app.launcher import RASA_BIN, rasa_service
from core.rasa_auth import RasaAuth
from core.settings import PROJECT_ROOT, RasaSettings, Settings
from testing.ports import free_port

SEED = 20261130
FOLDS = 5  # a fifth of each intent held out
LANGUAGES = ["en", "ru", "ar", "fa"]
NLU_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"
RESPONSES = PROJECT_ROOT / "var" / "rasa-data" / "responses.yml"
RESULTS = PROJECT_ROOT / "bench" / "results" / "nlu_languages.json"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")

Split = dict[str, dict[str, tuple[list[str], list[str]]]]  # language -> intent -> (train, test)


def examples_of(language: str) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Annotated examples per intent, and the other items (regexes, synonyms) of a language's files."""
    intents: dict[str, list[str]] = {}
    others: list[dict[str, Any]] = []
    for path in sorted((NLU_DIR / language).glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in item:
                others.append(item)
                continue
            lines = [ln.strip()[2:].strip() for ln in str(item["examples"]).splitlines() if ln.strip()]
            intents.setdefault(str(item["intent"]), []).extend(lines)
    return intents, others


def split(languages: list[str], fold: int = 0) -> tuple[Split, dict[str, list[dict[str, Any]]]]:
    """Fold `fold` of FOLDS: that fifth of each intent is held out, the rest is for training."""
    result: Split = {}
    others: dict[str, list[dict[str, Any]]] = {}
    for language in languages:
        intents, others[language] = examples_of(language)
        result[language] = {}
        for intent, lines in sorted(intents.items()):
            shuffled = lines[:]
            random.Random(f"{SEED}/{language}/{intent}").shuffle(shuffled)
            start = round(len(shuffled) * fold / FOLDS)
            end = max(start + 1, round(len(shuffled) * (fold + 1) / FOLDS))
            result[language][intent] = (shuffled[:start] + shuffled[end:], shuffled[start:end])
    return result, others


def write_training_data(folder: Path, data: Split, others: dict[str, list[dict[str, Any]]]) -> None:
    folder.mkdir(parents=True)
    for language, intents in data.items():
        items: list[dict[str, Any]] = [
            {"intent": intent, "examples": "".join(f"- {line}\n" for line in train)}
            for intent, (train, _) in intents.items()
        ]
        document = {"version": "3.1", "nlu": [*items, *others[language]]}
        (folder / f"nlu_{language}.yml").write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    shutil.copy(RESPONSES, folder / "responses.yml")


def train(data: Path, out: Path) -> tuple[Path, float]:
    started = time.perf_counter()
    subprocess.run(
        [str(RASA_BIN), "train", "nlu", "--nlu", str(data), "--config", "config.yml", "--out", str(out),
         "--fixed-model-name", "nlu"],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    return out / "nlu.tar.gz", time.perf_counter() - started


def predicted(parse: dict[str, Any]) -> tuple[str, str]:
    """The intent the customer experiences (nlu_fallback when unsure) and the classifier's best guess."""
    ranking = [i["name"] for i in parse.get("intent_ranking", []) if i["name"] != "nlu_fallback"]
    best = ranking[0] if ranking else "none"
    if best == "faq":
        selector = parse.get("response_selector", {}).get("faq", {}).get("response", {})
        best = str(selector.get("intent_response_key") or "faq")
    shown = parse["intent"]["name"]
    return (best if shown != "nlu_fallback" else "nlu_fallback"), best


async def evaluate(model: Path, data: Split) -> dict[str, dict[str, Any]]:
    port = free_port()
    token = secrets.token_urlsafe(32)
    settings = Settings(
        rasa=RasaSettings(url=f"http://127.0.0.1:{port}", token=SecretStr(token)), model_path=model
    )
    rasa = rasa_service(settings)
    rasa.start(log_to_files=True)
    try:
        rasa.wait_healthy()
        auth = RasaAuth(token)
        async with httpx.AsyncClient(base_url=settings.rasa.url, timeout=30, auth=auth) as http:
            return {lang: await _score(http, intents) for lang, intents in data.items()}
    finally:
        rasa.stop()


async def _score(http: httpx.AsyncClient, intents: dict[str, tuple[list[str], list[str]]]) -> dict:
    gold: list[str] = []
    shown: list[str] = []
    guessed: list[str] = []
    for intent, (_, test) in intents.items():
        for line in test:
            response = await http.post("/model/parse", json={"text": _ANNOTATION.sub(r"\1", line)})
            response.raise_for_status()
            final, best = predicted(response.json())
            gold.append(intent)
            shown.append(final)
            guessed.append(best)
    return {
        "examples": len(gold),
        "accuracy": _accuracy(gold, guessed),
        "macro_f1": _macro_f1(gold, guessed),
        "accuracy_after_fallback": _accuracy(gold, shown),
        "fallback_rate": sum(s == "nlu_fallback" for s in shown) / len(shown),
        "confusions": Counter(
            f"{g} -> {p}" for g, p in zip(gold, guessed, strict=True) if g != p
        ).most_common(8),
    }


def _accuracy(gold: list[str], guess: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, guess, strict=True)) / len(gold)


def _macro_f1(gold: list[str], guess: list[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, guess, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, guess, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, guess, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


async def run_variant(name: str, languages: list[str], work: Path, fold: int = 0) -> dict[str, Any]:
    data, others = split(languages, fold)
    write_training_data(work / name / "data", data, others)
    model, seconds = train(work / name / "data", work / name / "models")
    scores = await evaluate(model, data)
    print(f"\n{name}: trained in {seconds:.0f} s, model {model.stat().st_size / 1e6:.1f} MB")
    header = ("language", "held out", "accuracy", "macro F1", "after fallback", "fallback")
    print(f"{header[0]:<9}{header[1]:>9}{header[2]:>10}{header[3]:>10}{header[4]:>16}{header[5]:>10}")
    for lang, s in scores.items():
        print(
            f"{lang:<9}{s['examples']:>9}{s['accuracy']:>10.1%}{s['macro_f1']:>10.3f}"
            f"{s['accuracy_after_fallback']:>16.1%}{s['fallback_rate']:>10.1%}"
        )
    return {"training_seconds": seconds, "model_mb": model.stat().st_size / 1e6, "languages": scores}


def _mean_of_folds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per language, the mean accuracy and macro F1 of several folds, and their range."""
    mean: dict[str, Any] = {"folds": len(runs)}
    print(f"\nmean of {len(runs)} folds:")
    for lang in runs[0]["languages"]:
        accuracies = [run["languages"][lang]["accuracy"] for run in runs]
        f1s = [run["languages"][lang]["macro_f1"] for run in runs]
        mean[lang] = {"accuracy": sum(accuracies) / len(runs), "macro_f1": sum(f1s) / len(runs),
                      "accuracy_range": [min(accuracies), max(accuracies)]}  # fmt: skip
        print(f"{lang:<9}{mean[lang]['accuracy']:>10.1%} ({min(accuracies):.1%}–{max(accuracies):.1%})"
              f"{mean[lang]['macro_f1']:>10.3f}")  # fmt: skip
    return mean


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", action="store_true", help="also one model per language")
    parser.add_argument(
        "--folds", type=int, default=1, choices=range(1, FOLDS + 1),
        help=f"train this many models, each holding out another 1/{FOLDS}; report the mean",
    )  # fmt: skip
    args = parser.parse_args()
    results: dict[str, Any] = {"seed": SEED, "held_out": 1 / FOLDS}
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as tmp:
        work = Path(tmp)
        results["one_model"] = await run_variant("one model, four languages", LANGUAGES, work)
        if args.folds > 1:
            runs = [results["one_model"]]
            for k in range(1, args.folds):
                runs.append(await run_variant(f"fold {k + 1} of {FOLDS}", LANGUAGES, work, k))
            results["folds"] = _mean_of_folds(runs)
        if args.per_language:
            results["per_language"] = {
                lang: await run_variant(f"{lang} only", [lang], work) for lang in LANGUAGES
            }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
