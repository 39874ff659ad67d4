"""Scale-out on PostgreSQL: chat turns per second and their p50/p99 with 1 app process + 1 Rasa server
versus 2 + 2 in the same run, and escalation-to-console latency across app processes.

Starts an action server and two Rasa servers (sharing the trackers and Redis's lock store) once, then
one app process talking to one Rasa server, then two app processes talking to both; each customer keeps
to one app process, as behind the load balancer. Results go to bench/results/scale.json.
`python -m bench.scale` (PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import httpx
from pydantic import SecretStr

from app.launcher import Service, actions_service, app_services, rasa_services, start_all, stop_all
from bench.stats import summary_ms
from core.migrate import upgrade
from core.settings import PROJECT_ROOT, ActionsSettings, DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from testing.ports import consecutive_free_ports, free_port
from testing.postgres import create_postgres_database, drop_postgres_database

# The load comes from one address: the per-address limit is for strangers (read by the app processes).
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

MESSAGES = [
    "hi",
    "what are your opening hours",
    "how can i pay my bill",
    "what tariffs do you have",
    "thanks",
]
WARM_UP_TURNS = 2
ESCALATIONS = 20
RESULTS = PROJECT_ROOT / "bench" / "results" / "scale.json"


async def customers(bases: list[str], concurrency: int, turns: int) -> tuple[list[float], float]:
    """`concurrency` customers, customer i on app process i mod N, each sending `turns` messages one
    after another; the latency of each and the wall time of all."""
    samples: list[float] = []

    async def one(http: httpx.AsyncClient, count: int) -> None:
        customer, auth = f"scale-{uuid.uuid4().hex[:12]}", {}
        for i in range(count):
            started = time.perf_counter()
            response = await http.post(
                "/api/chat", json={"customer": customer, "text": MESSAGES[i % len(MESSAGES)]}, headers=auth
            )
            response.raise_for_status()
            body = response.json()
            auth = {"Authorization": f"Bearer {body['token']}"} if body.get("token") else auth
            assert body["replies"] and body["state"] == "bot", f"the bot did not answer: {body}"
            samples.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency + 5)
    clients = [httpx.AsyncClient(base_url=base, timeout=120, limits=limits) for base in bases]
    try:
        await asyncio.gather(*(one(clients[n % len(clients)], WARM_UP_TURNS) for n in range(concurrency)))
        samples.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(clients[n % len(clients)], turns) for n in range(concurrency)))
        return samples, time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()


async def escalation_across_processes(console_base: str, customer_base: str) -> list[float]:
    """A customer asks the bot for a person through one process and confirms: from the confirming
    turn's send until the console on the other process hears the ticket queued."""
    async with httpx.AsyncClient(base_url=console_base, timeout=30) as console:
        login = await console.post(
            "/api/operator/login", json={"login": "bench", "password": "bench-scale-pw"}
        )
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        ticket = (await console.post("/api/operator/events/ticket", headers=auth)).json()["ticket"]
        samples: list[float] = []
        async with (
            httpx.AsyncClient(base_url=customer_base, timeout=30) as http,
            console.stream("GET", "/api/operator/events", params={"ticket": ticket}) as stream,
        ):
            lines = stream.aiter_lines()
            for _ in range(ESCALATIONS):
                customer = f"e-{uuid.uuid4().hex[:8]}"
                asked = await http.post(
                    "/api/chat", json={"customer": customer, "text": "I want to talk to a real person"}
                )
                auth = {"Authorization": f"Bearer {asked.json()['token']}"}
                started = time.perf_counter()
                await http.post("/api/chat", json={"customer": customer, "text": "yes please"}, headers=auth)
                await _next_queued(lines)
                samples.append(time.perf_counter() - started)
        return samples


async def _next_queued(lines: object) -> None:
    kind = ""
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "ticket_queued":
            return
    raise RuntimeError("event stream ended")


def _apps(settings: Settings, count: int, rasa_urls: list[str]) -> list[Service]:
    apps = app_services(settings, count)
    for app in apps:
        app.env["FRONTLINE_RASA__URLS"] = json.dumps(rasa_urls)
        app.env["FRONTLINE_RASA__URL"] = rasa_urls[0]
        app.env["FRONTLINE_TELEGRAM__TOKEN"] = ""
    return apps


async def _save_operator(settings: Settings) -> None:
    await save_operator(
        settings, "bench", "bench-scale-pw",
        display_name="Bench", skills=["general"], languages=["en"], max_sessions=5,
    )  # fmt: skip


def measure(settings: Settings, concurrency: int, turns: int) -> dict[str, object]:
    report: dict[str, object] = {"customers": concurrency, "turns_per_customer": turns}
    for count in (1, 2):
        apps = _apps(settings, count, settings.rasa.urls[:count])
        start_all(apps, log_to_files=True)
        try:
            bases = [app.health_url.removesuffix("/healthz") for app in apps]
            samples, wall_s = asyncio.run(customers(bases, concurrency, turns))
            row: dict[str, object] = {**summary_ms(samples), "turns_per_s": round(len(samples) / wall_s, 1)}
            if count == 2:
                row["escalation_to_console"] = summary_ms(asyncio.run(escalation_across_processes(*bases)))
            report[f"{count}_apps_{count}_rasa"] = row
            print(count, row, flush=True)
        finally:
            stop_all(apps)
    one, two = report["1_apps_1_rasa"], report["2_apps_2_rasa"]
    assert isinstance(one, dict) and isinstance(two, dict)
    report["ratio_turns_per_s"] = round(two["turns_per_s"] / one["turns_per_s"], 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    name = f"frontline_bench_scale_{os.getpid()}"
    url = create_postgres_database(name)
    upgrade(url)
    settings = Settings(
        db=DbSettings(url=url),
        port=consecutive_free_ports(2),
        rasa=RasaSettings(
            urls=[f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"],
            token=SecretStr("bench-secret-for-two-rasa-servers-0123456789"),
        ),
        actions=ActionsSettings(port=free_port()),
    )
    backends = [actions_service(settings), *rasa_services(settings)]
    try:
        asyncio.run(_save_operator(settings))
        start_all(backends, log_to_files=True)
        report = measure(settings, args.customers, args.turns)
    finally:
        stop_all(backends)
        drop_postgres_database(f"{name}_rasa")
        drop_postgres_database(name)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
