"""The app process's resident memory: idle, and after 1,000 customers have each sent one turn.

Starts the front line as `make serve` does (action server, Rasa, app; embedded defaults, its own
SQLite file, no Telegram, no phone), reads the app process's VmRSS once it answers and again after
1,000 distinct customers have each sent one chat turn (POST /api/chat). `--without-rasa` leaves Rasa
down instead, so every turn goes the unavailable-bot way (to the operator queue). It also reports
what importing each channel's stack costs a fresh interpreter: the price of enabling that channel.
Run with `.venv/bin/python -m bench.app_memory`; results go to bench/results/app_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
import uuid

import httpx
import psutil

from app.launcher import APP_PYTHON, Service, actions_service, app_service, rasa_service, start_all, stop_all
from bench.chat_turns import bench_settings
from core.settings import PROJECT_ROOT, Settings

# One address opens every conversation here: the per-address limit is for strangers (the app reads it
# from the environment it inherits).
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

CUSTOMERS = 1000
CONCURRENCY = 20
SETTLE_S = 2.0  # after start: the first background passes (outbox prune, sweeps) have run
RESULTS = PROJECT_ROOT / "bench" / "results" / "app_memory.json"
# What enabling a channel imports on top of the app (the voice models load at start: bench/ivr).
STACKS = {"telegram": "bot.telegram.channel", "voice": "ivr.service"}
_RSS_OF_IMPORTS = (
    "import importlib, sys\n"
    "def rss(): return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
    "importlib.import_module('app.factory'); app = rss()\n"
    "importlib.import_module(sys.argv[1]); print(app, rss())"
)


def mb(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)


async def one_turn_each(base_url: str, customers: int, expect_bot: bool) -> None:
    """`customers` new customers, `CONCURRENCY` at a time, one message each."""

    async def one(http: httpx.AsyncClient) -> None:
        sent = {"customer": f"mem-{uuid.uuid4().hex[:12]}", "text": "what are your opening hours"}
        response = await http.post("/api/chat", json=sent)
        response.raise_for_status()
        body = response.json()
        assert body["replies"], f"no reply: {body}"
        assert not expect_bot or body["state"] == "bot", f"the bot did not answer: {body}"

    limits = httpx.Limits(max_connections=CONCURRENCY + 5)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:
        for _ in range(customers // CONCURRENCY):
            await asyncio.gather(*(one(http) for _ in range(CONCURRENCY)))


def measure(settings: Settings, app: Service, with_rasa: bool) -> dict[str, float]:
    assert app.process is not None
    process = psutil.Process(app.process.pid)
    time.sleep(SETTLE_S)
    idle = process.memory_info().rss
    started = time.perf_counter()
    asyncio.run(one_turn_each(f"http://{settings.host}:{settings.port}", CUSTOMERS, with_rasa))
    after = process.memory_info().rss
    return {
        "customers": CUSTOMERS,
        "rss_idle_mb": mb(idle),
        "rss_after_mb": mb(after),
        "seconds": round(time.perf_counter() - started, 1),
    }


def import_costs() -> dict[str, float]:
    """RSS (MB) of a fresh interpreter that imported the app, and what each channel's stack adds."""
    costs: dict[str, float] = {}
    for name, module in STACKS.items():
        out = subprocess.run(
            [str(APP_PYTHON), "-c", _RSS_OF_IMPORTS, module],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        app_kb, with_stack_kb = (int(n) for n in out.stdout.split())
        costs["app"] = round(app_kb / 1024, 1)
        costs[f"+{name}"] = round((with_stack_kb - app_kb) / 1024, 1)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description="the app process's resident memory")
    parser.add_argument("--without-rasa", action="store_true", help="leave Rasa down (turns go to the queue)")
    args = parser.parse_args()
    db_path = PROJECT_ROOT / "var" / "bench" / f"memory-{uuid.uuid4().hex[:8]}.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    settings = bench_settings(f"sqlite+aiosqlite:///{db_path}")
    app = app_service(settings)
    services = [app] if args.without_rasa else [actions_service(settings), rasa_service(settings), app]
    start_all(services, log_to_files=True)
    try:
        report: dict[str, object] = {"rasa": not args.without_rasa}
        report["memory"] = measure(settings, app, with_rasa=not args.without_rasa)
    finally:
        stop_all(services)
    report["import_rss_mb"] = import_costs()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    name = "app_memory_without_rasa.json" if args.without_rasa else RESULTS.name
    RESULTS.with_name(name).write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
