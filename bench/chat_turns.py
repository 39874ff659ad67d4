"""Turn latency through POST /api/chat against Rasa's REST channel directly, in one run.

Starts the whole front line on free ports with its own SQLite file, then for 1 and 20 concurrent
customers sends the same messages both ways (alternating rounds, so drift hits both alike), then
times one customer's long conversation (200 quick questions in one session: do the last turns take
longer than the first?), and finally measures the core's resident memory after 1,000 distinct
customers have chatted. Run with `make bench` (SQLite and PostgreSQL); results go to
bench/results/chat_turns_<db>.json; `--only long` times the long conversation alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import psutil
from pydantic import SecretStr

from app.launcher import Service, actions_service, app_service, rasa_service, start_all, stop_all
from bench.stats import print_latency_table, summary_ms
from core.settings import PROJECT_ROOT, ActionsSettings, DbSettings, RasaSettings, Settings
from testing.ports import free_port
from testing.postgres import create_postgres_database, drop_postgres_database

# The load generator opens many conversations from one address: the per-address limit is for
# strangers, not for this benchmark (the app process reads it from the environment).
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

MESSAGES = [
    "hi",
    "what are your opening hours",
    "how can i pay my bill",
    "what tariffs do you have",
    "do you have static ip",
    "thanks",
]
ROUNDS = 2
TURNS_PER_CUSTOMER = {1: 60, 20: 12}
MEMORY_CUSTOMERS = 1000
# One customer's long conversation: its first and last turns are compared by their medians.
LONG_TURNS = 200
LONG_WINDOW = 20
# The app process reads it from the environment; --rollover-turns 0 measures without rollovers.
ROLLOVER_VARIABLE = "FRONTLINE_RASA__ROLLOVER_TURNS"
RESULTS = PROJECT_ROOT / "bench" / "results" / "chat_turns.json"

Send = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


_TOKENS: dict[str, str] = {}  # customer -> the token the chat API gave its first turn


async def via_core(http: httpx.AsyncClient, customer: str, text: str) -> None:
    auth = {"Authorization": f"Bearer {_TOKENS[customer]}"} if customer in _TOKENS else {}
    response = await http.post("/api/chat", json={"customer": customer, "text": text}, headers=auth)
    response.raise_for_status()
    body = response.json()
    if body.get("token"):
        _TOKENS[customer] = body["token"]
    assert body["replies"] and body["state"] == "bot", f"the bot did not answer: {body}"


async def via_rasa(http: httpx.AsyncClient, customer: str, text: str) -> None:
    response = await http.post(
        "/webhooks/rest/webhook", json={"sender": f"bench:{customer}", "message": text}
    )
    response.raise_for_status()
    assert response.json(), "Rasa answered nothing"


async def run_customers(base_url: str, send: Send, concurrency: int, turns: int) -> list[float]:
    """`concurrency` customers, each sending `turns` messages one after another; latency of each."""
    samples: list[float] = []

    async def one_customer(http: httpx.AsyncClient) -> None:
        customer = f"bench-{uuid.uuid4().hex[:12]}"
        for i in range(turns):
            started = time.perf_counter()
            await send(http, customer, MESSAGES[i % len(MESSAGES)])
            samples.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency + 5)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:
        await asyncio.gather(*(one_customer(http) for _ in range(concurrency)))
    return samples


async def latency(settings: Settings, levels: list[int]) -> dict[str, dict[str, dict[str, float]]]:
    core_url = f"http://{settings.host}:{settings.port}"
    results: dict[str, dict[str, dict[str, float]]] = {}
    for concurrency in levels:
        turns = TURNS_PER_CUSTOMER.get(concurrency, 12)
        core: list[float] = []
        rasa: list[float] = []
        await run_customers(core_url, via_core, concurrency, 3)  # warm-up, not counted
        for _ in range(ROUNDS):
            rasa += await run_customers(settings.rasa.url, via_rasa, concurrency, turns)
            core += await run_customers(core_url, via_core, concurrency, turns)
        core_s, rasa_s = summary_ms(core), summary_ms(rasa)
        results[f"{concurrency}_customers"] = {
            "core": core_s,
            "rasa": rasa_s,
            "ratio": {k: round(core_s[k] / rasa_s[k], 2) for k in ("p50", "p95", "p99")},
        }
    return results


async def long_conversation(settings: Settings) -> dict[str, float]:
    """One customer, LONG_TURNS quick questions in one session: the median of the last turns over
    the median of the first (1.0 means a long conversation costs nothing extra per turn)."""
    core_url = f"http://{settings.host}:{settings.port}"
    await run_customers(core_url, via_core, 1, 3)  # warm-up, not counted
    samples = await run_customers(core_url, via_core, 1, LONG_TURNS)
    first = statistics.median(samples[:LONG_WINDOW]) * 1000
    last = statistics.median(samples[-LONG_WINDOW:]) * 1000
    return {
        "turns": LONG_TURNS,
        "rollover_turns": int(os.environ.get(ROLLOVER_VARIABLE, RasaSettings().rollover_turns)),
        "first_median_ms": round(first, 1),
        "last_median_ms": round(last, 1),
        "ratio": round(last / first, 2),
        # Rollover turns are slower (they read and copy the tracker): the mean shows what they cost.
        "mean_ms": round(statistics.fmean(samples) * 1000, 1),
    }


async def memory(settings: Settings, app: Service) -> dict[str, float]:
    assert app.process is not None
    process = psutil.Process(app.process.pid)
    before = process.memory_info().rss
    core_url = f"http://{settings.host}:{settings.port}"
    started = time.perf_counter()
    for _ in range(MEMORY_CUSTOMERS // 20):
        await run_customers(core_url, via_core, 20, 1)
    after = process.memory_info().rss
    return {
        "customers": MEMORY_CUSTOMERS,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def bench_settings(db_url: str) -> Settings:
    return Settings(
        port=free_port(),
        db=DbSettings(url=db_url),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", token=SecretStr(uuid.uuid4().hex)),
        actions=ActionsSettings(port=free_port()),
    )


def print_table(report: dict[str, object]) -> None:
    if "latency" in report:
        print_latency_table(report["latency"], "core")
    if "long_conversation" in report:
        print("long conversation:", json.dumps(report["long_conversation"]))
    if "memory" in report:
        print("memory:", json.dumps(report["memory"]))


def main() -> None:
    parser = argparse.ArgumentParser(description="chat turn latency and memory")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(TURNS_PER_CUSTOMER))
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--only", choices=["long"], help="run this measurement alone")
    parser.add_argument("--rollover-turns", type=int, help="the app's rollover setting (0: never)")
    args = parser.parse_args()
    if args.rollover_turns is not None:
        os.environ[ROLLOVER_VARIABLE] = str(args.rollover_turns)
    pg_name = f"frontline_bench_{uuid.uuid4().hex[:8]}"
    if args.db == "postgresql":
        db_url = create_postgres_database(pg_name)
    else:
        db_path = PROJECT_ROOT / "var" / "bench" / f"{uuid.uuid4().hex[:8]}.db"
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite+aiosqlite:///{db_path}"
    settings = bench_settings(db_url)
    services = [actions_service(settings), rasa_service(settings), app_service(settings)]
    start_all(services, log_to_files=True)
    try:
        report: dict[str, object] = {}
        if args.only is None:
            report["latency"] = asyncio.run(latency(settings, args.concurrency))
        report["long_conversation"] = asyncio.run(long_conversation(settings))
        if args.only is None and not args.skip_memory:
            report["memory"] = asyncio.run(memory(settings, services[2]))
    finally:
        stop_all(services)
        if args.db == "postgresql":
            drop_postgres_database(pg_name)
    report["database"] = args.db
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    suffix = f"_{args.only}" if args.only else ""
    RESULTS.with_name(f"chat_turns_{args.db}{suffix}.json").write_text(json.dumps(report, indent=2))
    print_table(report)


if __name__ == "__main__":
    main()
