"""Check a language's menu keywords against its speech model: can every phrase be heard, and as what?

A centre that downloads a model (python -m ivr.speech.download ru) runs
    .venv/bin/python -m ivr.speech.check ru [--model-dir DIR] [--keywords-dir DIR]
Each phrase of ivr/data/keywords/<lang>.yml is spoken by espeak-ng in that language, sent through
G.711 as a phone line would, and recognised with the menu grammar, exactly as in a call. Words the
model does not know are listed (Vosk drops them from a grammar: they can never be heard). The exit
status is 1 when a phrase is missing from the vocabulary or heard as another entry. A synthetic
voice is a first check only: try the phrases with real callers' voices before relying on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr import g711
from ivr.speech.download import DEFAULT_DIR
from ivr.speech.keywords import KEYWORDS_DIR, find_keyword, load_keywords, recognizer_phrases
from ivr.speech.models import SpeechModels
from ivr.speech.recognizer import decode, grammar_for, new_recognizer
from ivr.speech.synthesis import Speaker

PHONE_RATE = 8000


@dataclass(frozen=True)
class PhraseCheck:
    entry: str
    phrase: str
    heard: str
    heard_entry: str | None
    confidence: float

    @property
    def ok(self) -> bool:
        return self.heard_entry == self.entry


def unknown_words(model: Any, phrases: list[str]) -> list[str]:
    """Words of the keyword file that the model's vocabulary lacks."""
    words = {word for phrase in phrases for word in phrase.split()}
    return sorted(word for word in words if model.vosk_model_find_word(word) < 0)


async def check_phrases(model: Any, language: str, keywords_dir: Path, speaker: Any) -> list[PhraseCheck]:
    keywords = load_keywords(language, keywords_dir)
    grammar = json.dumps(grammar_for(model, recognizer_phrases(language, keywords_dir)), ensure_ascii=False)
    results = []
    for entry, phrases in keywords.items():
        for phrase in phrases:
            pcm = await speaker.synthesize(phrase, language)
            line = g711.decode(g711.encode(pcm, "PCMU"), "PCMU")  # what reaches us over a phone line
            heard = decode(new_recognizer(model, PHONE_RATE, grammar), line)
            found = find_keyword([w.word for w in heard.words], keywords)
            confidence = heard.confidence(found.positions) if found else 0.0
            results.append(PhraseCheck(entry, phrase, heard.text, found.entry if found else None, confidence))
    return results


def report(language: str, missing: list[str], checks: list[PhraseCheck], confirm_below: float) -> str:
    lines = [f"{language}: {len(checks)} phrases"]
    if missing:
        lines.append("not in the model's vocabulary (never heard): " + ", ".join(missing))
    for c in checks:
        verdict = "ok" if c.ok else f"heard as {c.heard_entry or 'nothing'}"
        doubt = " (would be confirmed by key)" if c.ok and c.confidence < confirm_below else ""
        lines.append(
            f"  {c.entry:<15} {c.phrase!r:<30} heard {c.heard!r} {c.confidence:.2f} {verdict}{doubt}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", help="language code, as in ivr/data/keywords/<lang>.yml")
    parser.add_argument("--model-dir", type=Path, help=f"the Vosk model (default: {DEFAULT_DIR}/<lang>)")
    parser.add_argument("--keywords-dir", type=Path, default=KEYWORDS_DIR)
    parser.add_argument("--confirm-below", type=float, default=0.8, help="the IVR's confirm threshold")
    args = parser.parse_args(argv)
    directory = args.model_dir or DEFAULT_DIR / args.language
    models = SpeechModels({args.language: directory})
    model = models.get(args.language)
    models.close()  # only the model is needed here, not its warm dictation recognisers
    if model is None:
        print(
            f"no speech model at {directory}: python -m ivr.speech.download {args.language}", file=sys.stderr
        )
        return 2
    if not load_keywords(args.language, args.keywords_dir):
        print(f"no keywords for {args.language} in {args.keywords_dir}", file=sys.stderr)
        return 2
    speaker = Speaker()
    missing = unknown_words(model, recognizer_phrases(args.language, args.keywords_dir))
    checks = asyncio.run(check_phrases(model, args.language, args.keywords_dir, speaker))
    print(report(args.language, missing, checks, args.confirm_below))
    return 1 if missing or not all(c.ok for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
