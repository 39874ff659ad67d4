"""A fast stand-in for bench/nlu_languages: the same 5 folds, the classifier alone, no Rasa server.

Each variant of the intent classifier is trained on each fold's training lines and scored on its
held-out lines, as `bench.nlu_languages --folds 5` does with the whole Rasa pipeline, in a fraction of
its time. The folds come from bench/nlu_languages itself (run in the app's environment, since it
imports the app), the text goes through the project's own tokenizer (bot/nlu/components.py), and a
prediction is what the customer would get: the best intent after FAQ topics are summed into "faq",
then the best topic. "after fallback" also applies the pipeline's thresholds (0.5, ambiguity 0.1, the
FAQ topic 0.5), so a variant whose probabilities are badly scaled shows it there.

Run with the Rasa environment (scikit-learn lives there):
    .venv-rasa/bin/python -m bench.nlu_quick [--variants current,nb_lr,...]
Results go to bench/results/nlu_quick.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy import sparse  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.pipeline import FeatureUnion  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

APP_PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results" / "nlu_quick.json"
CACHE = ROOT / "var" / "nlu-quick"
# The folds exactly as bench/nlu_languages draws them; text with entity annotations removed.
_FOLDS_SCRIPT = """
import json
from bench.nlu_languages import FOLDS, LANGUAGES, _ANNOTATION, split
folds = []
for k in range(FOLDS):
    data, _ = split(LANGUAGES, k)
    folds.append({lang: {intent: [[_ANNOTATION.sub(r"\\1", t) for t in part] for part in parts]
                         for intent, parts in intents.items()} for lang, intents in data.items()})
print(json.dumps(folds, ensure_ascii=False))
"""

# The product's model today, and the variants tried against it; "base" keys apply to all.
_BASE: dict[str, Any] = {
    "classifier": "lr",
    "C": 1000.0,
    "chars": "char_wb",
    "min_char": 1,
    "max_char": 4,
    "words": 1,
    "class_weight": None,
    "min_df": 1,
    "max_df": 1.0,
    "sublinear_tf": True,
    "skeleton": "",
}
_CHANGES: dict[str, dict[str, Any]] = {
    "current": {},
    "balanced": {"class_weight": "balanced"},
    "C200": {"C": 200.0},
    "C50": {"C": 50.0},
    "skel_words": {"skeleton": "words"},
    "skel_chars": {"skeleton": "chars"},
    "char_2_5": {"chars": "char", "min_char": 2, "max_char": 5},
    "min_df_2": {"min_df": 2},
    "max_df_0.5": {"max_df": 0.5},
    "raw_tf": {"sublinear_tf": False},
    "nb_lr": {"classifier": "nb_lr", "C": 10.0},
    "nb_lr_C30": {"classifier": "nb_lr", "C": 30.0},
    "nb_lr_C100": {"classifier": "nb_lr", "C": 100.0},
    "svm_C10": {"classifier": "svm", "C": 10.0},
    "svm": {"classifier": "svm", "C": 1.0},
    "svm_C0.3": {"classifier": "svm", "C": 0.3},
    "sgd": {"classifier": "sgd", "C": 1e-5},
    "sgd_calibrated": {"classifier": "sgd_calibrated", "C": 1e-5},
}  # fmt: skip
_FEATURE_KEYS = ("chars", "min_char", "max_char", "words", "min_df", "max_df", "sublinear_tf", "skeleton")
VARIANTS: dict[str, dict[str, Any]] = {name: {**_BASE, **change} for name, change in _CHANGES.items()}


def variant(name: str) -> dict[str, Any]:
    """A named variant, or "a+b": the soft vote (mean probabilities) of variants a and b."""
    if "+" in name:
        return {"classifier": "vote", "members": name.split("+")}
    return VARIANTS[name]


def features(config: dict[str, Any]) -> FeatureUnion:
    common = {"lowercase": False, "sublinear_tf": config["sublinear_tf"], "min_df": config["min_df"],
              "max_df": config["max_df"]}  # fmt: skip
    words = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, config["words"]), **common)
    chars = TfidfVectorizer(analyzer=config["chars"], ngram_range=(config["min_char"], config["max_char"]),
                            **common)  # fmt: skip
    parts = [("words", words), ("chars", chars)]
    if config["skeleton"] == "words":
        parts.append(("skeleton", TfidfVectorizer(preprocessor=latin_skeleton, token_pattern=r"\S+",
                                                  **common)))  # fmt: skip
    elif config["skeleton"] == "chars":
        parts.append(("skeleton", TfidfVectorizer(preprocessor=latin_skeleton, analyzer="char_wb",
                                                  ngram_range=(1, 3), **common)))  # fmt: skip
    return FeatureUnion(parts)


_VOWELS = re.compile(r"[aeiouy]+")
_REPEATS = re.compile(r"(.)\1+")


def latin_skeleton(text: str) -> str:
    """Latin-letter words without vowels or doubled letters: Arabizi and Finglish spell vowels freely
    ("mazboot", "mazbout"; "mikham", "mikhaam"), consonants and digit-letters less so. Not used by
    the product: random consonants ("blorf zzkx qwerty") then look like Arabizi and no longer fall back."""
    words = (w for w in text.split() if w.isascii() and not w.isdigit())
    skeletons = (_REPEATS.sub(r"\1", _VOWELS.sub("", w)) for w in words)
    return " ".join(w for w in skeletons if w)


class NBLogistic(BaseEstimator, ClassifierMixin):
    """One-vs-rest logistic regression over features scaled by each class's NB log-count ratio.

    The scaled model of class c is linear in the unscaled features (weights r_c * w_c), so only the
    product is kept; probabilities are the per-class sigmoids, normalised to sum to one.
    """

    def __init__(self, C: float = 10.0, alpha: float = 1.0, class_weight: Any = None) -> None:
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight

    def fit(self, X: sparse.csr_matrix, y: list[str]) -> NBLogistic:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        present = (X > 0).astype(np.float64).tocsr()
        weights, intercepts = [], []
        for label in self.classes_:
            mask = y == label
            p = self.alpha + np.asarray(present[mask].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~mask].sum(axis=0)).ravel()
            r = np.log(p / p.sum()) - np.log(q / q.sum())
            binary = LogisticRegression(C=self.C, solver="liblinear", class_weight=self.class_weight)
            binary.fit(X @ sparse.diags(r), mask)
            weights.append(binary.coef_.ravel() * r)
            intercepts.append(binary.intercept_[0])
        self.coef_ = np.vstack(weights)
        self.intercept_ = np.array(intercepts)
        return self

    def predict_proba(self, X: sparse.csr_matrix) -> np.ndarray:
        scores = 1 / (1 + np.exp(-(X @ self.coef_.T + self.intercept_)))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X: sparse.csr_matrix) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def classifier(config: dict[str, Any]) -> Any:
    kind, C, weight = config["classifier"], float(config["C"]), config["class_weight"]
    if kind == "lr":
        return LogisticRegression(C=C, max_iter=3000, random_state=1, class_weight=weight)
    if kind == "nb_lr":
        return NBLogistic(C=C, class_weight=weight)
    if kind == "svm":
        svm = LinearSVC(C=C, class_weight=weight, random_state=1)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=3)
    if kind == "sgd_calibrated":
        return CalibratedClassifierCV(classifier({**config, "classifier": "sgd"}), method="sigmoid", cv=3)
    if kind == "sgd":
        return SGDClassifier(loss="modified_huber", alpha=C, class_weight=weight, random_state=1,
                             max_iter=50, tol=None)  # fmt: skip
    raise ValueError(f"unknown classifier {kind}")


FALLBACK = 0.5
LANGUAGE_ORDER = ("en", "ru", "ar", "fa")
AMBIGUITY = 0.1

Folds = list[dict[str, dict[str, list[list[str]]]]]  # fold -> language -> intent -> [train, test]


def load_folds() -> Folds:
    out = subprocess.run([str(APP_PYTHON), "-c", _FOLDS_SCRIPT], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out)


def tokenizer() -> Callable[[str], str]:
    """The pipeline's own tokenizer; the classifier sees its tokens joined by spaces."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import NormalisingTokenizer

    component = NormalisingTokenizer(NormalisingTokenizer.get_default_config())
    cache: dict[str, str] = {}

    def normalised(text: str) -> str:
        if text not in cache:
            tokens = component.tokenize(Message(data={"text": text}), "text")
            cache[text] = " ".join(t.text for t in tokens) or text
        return cache[text]

    return normalised


def predictions(labels: list[str], scores: np.ndarray) -> tuple[list[str], list[bool]]:
    """Per message: the label the pipeline would pick, and whether a fallback would hide it."""
    intents = sorted({label.partition("/")[0] for label in labels})
    column = {intent: i for i, intent in enumerate(intents)}
    summed = np.zeros((scores.shape[0], len(intents)))
    for j, label in enumerate(labels):
        summed[:, column[label.partition("/")[0]]] += scores[:, j]
    faq = np.array([label.startswith("faq/") for label in labels])
    picked: list[str] = []
    fallback: list[bool] = []
    for row, total in zip(scores, summed, strict=True):
        order = np.argsort(-total)
        best = intents[order[0]]
        top, second = total[order[0]], (total[order[1]] if len(order) > 1 else 0.0)
        unsure = top < FALLBACK or top - second < AMBIGUITY
        if best == "faq" and faq.any():
            topics = np.where(faq, row, -1.0)
            j = int(np.argmax(topics))
            best = labels[j]
            unsure = unsure or (topics[j] / top if top > 0 else 0.0) < FALLBACK
        picked.append(best)
        fallback.append(bool(unsure))
    return picked, fallback


def macro_f1(gold: list[str], guess: list[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, guess, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, guess, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, guess, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


Scored = tuple[list[str], dict[str, np.ndarray], float]  # labels, probabilities per language, seconds
_features: dict[tuple[int, tuple[Any, ...]], tuple[Any, list[str], dict[str, Any], float]] = {}
_scored: dict[tuple[str, int], Scored] = {}


def featurised(config: dict[str, Any], index: int, fold: dict[str, Any], norm: Callable[[str], str]) -> tuple:
    """A fold's training matrix, labels and test matrices per language, made once per feature setting."""
    key = (index, tuple(config[k] for k in _FEATURE_KEYS))
    if key not in _features:
        # Rasa drops exact duplicates (same text, same label) from the training data.
        pairs = list(dict.fromkeys(
            (norm(text), intent) for intents in fold.values() for intent, (train, _) in intents.items()
            for text in train
        ))  # fmt: skip
        started = time.perf_counter()
        union = features(config)
        train = union.fit_transform([t for t, _ in pairs])
        seconds = time.perf_counter() - started
        tests = {
            lang: union.transform([norm(text) for _, (_, test) in intents.items() for text in test])
            for lang, intents in fold.items()
        }
        _features[key] = (train, [i for _, i in pairs], tests, seconds)
    return _features[key]


def scored(name: str, index: int, fold: dict[str, Any], norm: Callable[[str], str]) -> Scored:
    """A variant's probabilities on a fold's held-out lines; an ensemble averages its members'."""
    if (name, index) in _scored:
        return _scored[(name, index)]
    config = variant(name)
    # Kept on disk by setting and fold content, so an ensemble reuses members scored by another run.
    digest = hashlib.sha256(json.dumps([config, fold], sort_keys=True).encode()).hexdigest()[:16]
    cached = CACHE / f"{digest}.pickle"
    if config["classifier"] != "vote" and cached.exists():
        _scored[(name, index)] = pickle.loads(cached.read_bytes())
        return _scored[(name, index)]
    if config["classifier"] == "vote":
        members = [scored(member, index, fold, norm) for member in config["members"]]
        labels = members[0][0]
        assert all(m[0] == labels for m in members)
        probabilities = {lang: np.mean([m[1][lang] for m in members], axis=0) for lang in fold}
        result: Scored = (labels, probabilities, sum(m[2] for m in members))
    else:
        train, labels, tests, feature_seconds = featurised(config, index, fold, norm)
        started = time.perf_counter()
        model = classifier(config).fit(train, np.asarray(labels))
        seconds = feature_seconds + time.perf_counter() - started
        result = ([str(c) for c in model.classes_],
                  {lang: model.predict_proba(x) for lang, x in tests.items()}, seconds)  # fmt: skip
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(result))
    _scored[(name, index)] = result
    return result


def run_fold(name: str, index: int, fold: dict[str, Any], norm: Callable[[str], str]) -> dict[str, Any]:
    labels, probabilities, seconds = scored(name, index, fold, norm)
    scores: dict[str, Any] = {"training_seconds": seconds}
    for lang, intents in fold.items():
        gold = [intent for intent, (_, test) in intents.items() for _ in test]
        guess, fallback = predictions(labels, probabilities[lang])
        right = [g == p for g, p in zip(gold, guess, strict=True)]
        scores[lang] = {
            "accuracy": float(np.mean(right)),
            "macro_f1": macro_f1(gold, guess),
            "after_fallback": float(np.mean([r and not f for r, f in zip(right, fallback, strict=True)])),
            "fallback_rate": float(np.mean(fallback)),
        }
    return scores


def run_variant(name: str, folds: Folds, norm: Callable[[str], str]) -> dict[str, Any]:
    config = variant(name)
    runs = [run_fold(name, index, fold, norm) for index, fold in enumerate(folds)]
    languages = list(folds[0])
    summary: dict[str, Any] = {
        "config": config,
        "training_seconds": float(np.mean([r["training_seconds"] for r in runs])),
    }
    print(f"\n{name}: {config}\n  training {summary['training_seconds']:.0f} s per fold (classifier only)")
    print(
        f"  {'lang':<5}{'accuracy':>9}{'range':>14}{'stdev':>7}{'macro F1':>9}{'after fb':>9}{'fb rate':>8}"
    )
    for lang in languages:
        acc = [r[lang]["accuracy"] for r in runs]
        summary[lang] = {
            "accuracy": float(np.mean(acc)), "accuracy_folds": acc,
            "macro_f1": float(np.mean([r[lang]["macro_f1"] for r in runs])),
            "after_fallback": float(np.mean([r[lang]["after_fallback"] for r in runs])),
            "fallback_rate": float(np.mean([r[lang]["fallback_rate"] for r in runs])),
        }  # fmt: skip
        s = summary[lang]
        print(f"  {lang:<5}{s['accuracy']:>9.1%}  {min(acc):>5.1%}–{max(acc):<5.1%}{np.std(acc) * 100:>6.2f}"
              f"{s['macro_f1']:>9.3f}{s['after_fallback']:>9.1%}{s['fallback_rate']:>8.1%}")  # fmt: skip
    return summary


def versus_current(summary: dict[str, Any], current: dict[str, Any]) -> None:
    """Fold by fold against the current model: the same held-out lines, so the difference is less noisy."""
    print("  versus current, points per fold (mean, min–max):", end="")
    for lang in LANGUAGE_ORDER:
        if lang in summary and lang in current:
            gains = [(a - b) * 100 for a, b in zip(summary[lang]["accuracy_folds"],
                                                   current[lang]["accuracy_folds"], strict=True)]  # fmt: skip
            summary[lang]["versus_current"] = [float(np.mean(gains)), min(gains), max(gains)]
            print(f"  {lang} {np.mean(gains):+.1f} ({min(gains):+.1f}–{max(gains):+.1f})", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default="current",
        help=f"comma-separated, of: {', '.join(VARIANTS)}; a+b: their soft vote",
    )
    parser.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    args = parser.parse_args()
    folds = load_folds()[: args.folds]
    norm = tokenizer()
    for name in args.variants.split(","):
        summary = run_variant(name, folds, norm)
        # Read again before writing: another run may have added its variants meanwhile.
        results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        if name != "current" and "current" in results:
            versus_current(summary, results["current"])
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps({**results, name: summary}, indent=2, ensure_ascii=False), encoding="utf-8"
        )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
