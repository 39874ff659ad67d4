"""Telegram polling after an outage: from the Bot API answering again to the first update taken in.

The channel's poller (bot/telegram/polling.py) runs against the project's fake Bot API server,
which refuses getUpdates with 502 for a while (rounds spread over one to two times the outage);
then it answers again and a customer writes at once.
The figure is the time from the recovery to the update reaching the channel (no Rasa, no database:
the backoff alone). Several outages run side by side, each with its own fake server and bot.
Results go to bench/results/telegram_recovery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.telegram.polling import BACKOFF_MAX_S, poll_updates
from core.settings import PROJECT_ROOT
from testing.telegram.fake_bot_api import FakeBotApi

RESULTS = PROJECT_ROOT / "bench" / "results"
CHAT_ID = 700_000_001
POLL_TIMEOUT_S = 5


async def one_outage(outage_s: float) -> float:
    """Seconds from the Bot API's recovery to the next update's arrival in the channel."""
    fake = FakeBotApi()
    await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    arrived = asyncio.get_running_loop().create_future()

    async def accept(updates: list[dict[str, Any]]) -> None:
        if updates and not arrived.done():
            arrived.set_result(time.monotonic())

    poller = asyncio.create_task(poll_updates(bot, accept, POLL_TIMEOUT_S))
    try:
        fake.fail_next("getUpdates", status=502, description="Bad Gateway", times=10**6)
        await asyncio.sleep(outage_s)
        fake.clear_failures("getUpdates")
        recovered = time.monotonic()
        fake.push_message(CHAT_ID, "/start")
        return await asyncio.wait_for(arrived, 120) - recovered
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        await bot.session.close()
        await fake.stop()


async def measure(outages: list[float], rounds: int) -> dict[str, dict[str, float]]:
    # Outages of one size spread over [outage, 2 outage): the recovery falls at every phase of the backoff.
    jobs = [one_outage(outage * (1 + i / rounds)) for outage in outages for i in range(rounds)]
    waits = await asyncio.gather(*jobs)
    results: dict[str, dict[str, float]] = {}
    for index, outage in enumerate(outages):
        sample = waits[index * rounds : (index + 1) * rounds]
        results[f"{outage:g}s"] = {
            "rounds": rounds,
            "median_s": round(statistics.median(sample), 2),
            "max_s": round(max(sample), 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = asyncio.run(measure(args.outages, args.rounds))
    print(f"backoff cap {BACKOFF_MAX_S:g} s; wait from recovery to the first update taken in:")
    for outage, figures in results.items():
        print(f"  outage {outage:>5}: median {figures['median_s']:5.2f} s, max {figures['max_s']:5.2f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = {"backoff_max_s": BACKOFF_MAX_S, "poll_timeout_s": POLL_TIMEOUT_S, "outages": results}
    (RESULTS / "telegram_recovery.json").write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
