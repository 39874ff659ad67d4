"""Telegram turn latency: an update pushed into the fake Bot API → the bot's reply received by it,
against Rasa's REST channel directly, with the same messages, in alternating rounds of one run.

The front line runs as its own process (as `make serve` runs it) with the Telegram channel in
long-polling mode against the project's fake Bot API server, which runs in this process. The
Telegram figure is the time to the first reply message of a turn (the channel sends a turn's
replies only after the core has them all, so it covers the whole turn); the next message is sent
once the chat has been quiet for a moment, so turns of one customer never overlap.
Results go to bench/results/telegram_<db>.json; `make bench` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from app.launcher import actions_service, app_service, rasa_service, start_all, stop_all
from bench.chat_turns import MESSAGES, bench_settings, via_rasa
from bench.stats import print_latency_table, summary_ms
from core.settings import PROJECT_ROOT
from testing.postgres import create_postgres_database, drop_postgres_database
from testing.telegram.fake_bot_api import FakeBotApi

ROUNDS = 2
TURNS_PER_CUSTOMER = {1: 60, 10: 12}
QUIET_S = 0.15  # no further reply for this long: the turn is over
RESULTS = PROJECT_ROOT / "bench" / "results"

Turn = Callable[[int, str], Awaitable[float]]


async def via_telegram(fake: FakeBotApi, chat_id: int, text: str) -> float:
    """Seconds from the push to the first reply the fake received; waits for the turn to end."""
    before = sum(1 for m in fake.sent if m.chat_id == chat_id)
    started = time.monotonic()
    fake.push_message(chat_id, text)
    replies = await fake.wait_sent(chat_id, before + 1, timeout=60)
    latency = replies[before].at - started
    while True:  # the rest of the turn's replies, not counted
        count = len(replies)
        await asyncio.sleep(QUIET_S)
        replies = [m for m in fake.sent if m.chat_id == chat_id]
        if len(replies) == count:
            return latency


async def run_customers(turn: Turn, concurrency: int, turns: int) -> list[float]:
    samples: list[float] = []

    async def one_customer() -> None:
        chat_id = int(uuid.uuid4().int % 10**9) + 10**9
        for i in range(turns):
            samples.append(await turn(chat_id, MESSAGES[i % len(MESSAGES)]))

    await asyncio.gather(*(one_customer() for _ in range(concurrency)))
    return samples


async def measure(
    fake: FakeBotApi, rasa_url: str, levels: list[int]
) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    async with httpx.AsyncClient(base_url=rasa_url, timeout=120) as http:

        async def rasa_turn(chat_id: int, text: str) -> float:
            started = time.perf_counter()
            await via_rasa(http, str(chat_id), text)
            return time.perf_counter() - started

        async def telegram_turn(chat_id: int, text: str) -> float:
            return await via_telegram(fake, chat_id, text)

        for concurrency in levels:
            turns = TURNS_PER_CUSTOMER.get(concurrency, 12)
            await run_customers(telegram_turn, concurrency, 3)  # warm-up, not counted
            rasa: list[float] = []
            telegram: list[float] = []
            for _ in range(ROUNDS):
                rasa += await run_customers(rasa_turn, concurrency, turns)
                telegram += await run_customers(telegram_turn, concurrency, turns)
            tg, ra = summary_ms(telegram), summary_ms(rasa)
            results[f"{concurrency}_customers"] = {
                "telegram": tg,
                "rasa": ra,
                "ratio": {k: round(tg[k] / ra[k], 2) for k in ("p50", "p95", "p99")},
            }
    return results


async def run(db: str, levels: list[int]) -> dict[str, object]:
    pg_name = f"frontline_bench_{uuid.uuid4().hex[:8]}"
    if db == "postgresql":
        db_url = create_postgres_database(pg_name)
    else:
        path = PROJECT_ROOT / "var" / "bench" / f"{uuid.uuid4().hex[:8]}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite+aiosqlite:///{path}"
    fake = FakeBotApi()
    await fake.start()
    settings = bench_settings(db_url)
    app = app_service(settings)
    app.env |= {"FRONTLINE_TELEGRAM__TOKEN": fake.token, "FRONTLINE_TELEGRAM__API_BASE_URL": fake.base_url}
    services = [actions_service(settings), rasa_service(settings), app]
    try:
        # Started from a thread: the fake keeps answering the app while it comes up.
        await asyncio.to_thread(start_all, services, True)
        report: dict[str, object] = {"latency": await measure(fake, settings.rasa.url, levels)}
    finally:
        await asyncio.to_thread(stop_all, services)
        await fake.stop()
        if db == "postgresql":
            drop_postgres_database(pg_name)
    report["database"] = db
    return report


def print_table(report: dict[str, object]) -> None:
    print_latency_table(report["latency"], "telegram")


def main() -> None:
    parser = argparse.ArgumentParser(description="Telegram turn latency against Rasa directly")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(TURNS_PER_CUSTOMER))
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    report = asyncio.run(run(args.db, args.concurrency))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"telegram_{args.db}.json").write_text(json.dumps(report, indent=2))
    print_table(report)


if __name__ == "__main__":
    main()
