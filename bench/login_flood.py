"""Wrong-password operator log-ins against chat latency, in one run.

Starts the whole front line (real Rasa, the action server, the app on its own SQLite file), keeps a
few web chat customers talking, and alternates windows without and with a flood of wrong-password
log-ins at each rate (10, 30, 100 per second by default). The flood is sent at a fixed pace whatever
the answers take (an attacker does not wait), with invented logins, from several loopback addresses
(127.0.<n>.x, fresh ones per rate), since the throttle counts per login and per address.

Reported per rate: chat p50/p95/p99 beside the no-flood windows of the same run, the p99 ratio, and
how the log-ins were answered (401: the password was checked; 429: refused by the throttle). The
headline is the highest rate whose chat p99 stays within 10 % of the no-flood p99. Run with
`python -m bench.login_flood`; results go to bench/results/login_flood.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from app.launcher import actions_service, app_service, rasa_service, start_all, stop_all
from bench.chat_turns import MESSAGES, bench_settings
from bench.stats import summary_ms
from core.settings import PROJECT_ROOT

# Our chat customers come from one address: the new-conversation limit is for strangers.
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

RESULTS = PROJECT_ROOT / "bench" / "results" / "login_flood.json"
TOLERANCE = 1.10  # "unchanged": chat p99 within 10 % of the no-flood p99
TURNS_PER_CUSTOMER_ID = 20  # a new customer id now and then keeps Rasa's trackers short
DRAIN_TIMEOUT_S = 180.0


# --- chat ------------------------------------------------------------------------------------------


async def chat_window(base_url: str, customers: int, seconds: float) -> list[float]:
    """`customers` web chat customers, each sending its next turn when the last is answered."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_customer(http: httpx.AsyncClient) -> None:
        turn, headers, customer = 0, {}, ""
        while time.perf_counter() < deadline:
            if turn % TURNS_PER_CUSTOMER_ID == 0:
                customer, headers = f"flood-chat-{uuid.uuid4().hex[:12]}", {}
            started = time.perf_counter()
            body = {"customer": customer, "text": MESSAGES[turn % len(MESSAGES)]}
            response = await http.post("/api/chat", json=body, headers=headers)
            response.raise_for_status()
            samples.append(time.perf_counter() - started)
            if token := response.json().get("token"):
                headers = {"Authorization": f"Bearer {token}"}
            turn += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        await asyncio.gather(*(one_customer(http) for _ in range(customers)))
    return samples


# --- the flood ---------------------------------------------------------------------------------------


@dataclass
class Flood:
    """Log-in attempts sent at a fixed pace, round robin over client addresses."""

    base_url: str
    rate: float
    addresses: list[str]
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # answered attempts, whatever the status
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def send_for(self, seconds: float) -> int:
        """Send for `seconds`; the answers are awaited by drain()."""
        self._clients = [self._client(address) for address in self.addresses]
        sent, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            task = asyncio.create_task(self._attempt(self._clients[sent % len(self._clients)]))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / self.rate - time.perf_counter()))
        return sent

    async def drain(self) -> float:
        """Wait for the attempts still in flight (queued hashing answers late); seconds waited."""
        started = time.perf_counter()
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=DRAIN_TIMEOUT_S)
        for task in set(self._pending):
            task.cancel()
            self.statuses["unanswered"] += 1
        await asyncio.gather(*(c.aclose() for c in self._clients))
        return round(time.perf_counter() - started, 1)

    def _client(self, address: str) -> httpx.AsyncClient:
        # The app sees the connection's source address: bind each client to its own.
        transport = httpx.AsyncHTTPTransport(local_address=address)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        return httpx.AsyncClient(
            base_url=self.base_url, transport=transport, limits=limits, timeout=DRAIN_TIMEOUT_S
        )

    async def _attempt(self, http: httpx.AsyncClient) -> None:
        body = {"login": f"guess-{secrets.token_hex(4)}", "password": secrets.token_urlsafe(12)}
        started = time.perf_counter()
        try:
            response = await http.post("/api/operator/login", json=body)
        except httpx.HTTPError as exc:
            self.statuses[type(exc).__name__] += 1
            return
        self.latencies.append(time.perf_counter() - started)
        self.statuses[str(response.status_code)] += 1


def flood_addresses(rate_index: int, count: int) -> list[str]:
    """Fresh loopback addresses per rate, so one rate's throttle counts do not carry into the next."""
    return [f"127.0.{rate_index + 10}.{host}" for host in range(2, 2 + count)]


# --- the run -----------------------------------------------------------------------------------------


async def measure(base_url: str, rates: list[int], customers: int, seconds: float, addresses: int) -> dict:
    await chat_window(base_url, customers, 5.0)  # warm-up, not counted
    calm_all: list[float] = []
    per_rate: dict[str, dict[str, object]] = {}
    for index, rate in enumerate(rates):
        calm = await chat_window(base_url, customers, seconds)
        calm_all += calm
        flood = Flood(base_url, rate, flood_addresses(index, addresses))
        sent, during = await asyncio.gather(
            flood.send_for(seconds), chat_window(base_url, customers, seconds)
        )
        drained_s = await flood.drain()
        per_rate[str(rate)] = {
            "chat_before": summary_ms(calm),
            "chat_during": summary_ms(during),
            "login": {
                "sent": sent,
                "addresses": addresses,
                "checked_401": flood.statuses["401"],
                "refused_429": flood.statuses["429"],
                "other": {k: n for k, n in flood.statuses.items() if k not in ("401", "429")},
                "latency_ms": summary_ms(flood.latencies),
                "last_answer_after_flood_s": drained_s,
            },
        }
    return summarise(per_rate, calm_all)


def summarise(per_rate: dict[str, dict[str, object]], calm_all: list[float]) -> dict:
    calm = summary_ms(calm_all)
    within = []
    for rate, row in per_rate.items():
        during, before = row["chat_during"], row["chat_before"]
        row["p99_ratio_to_no_flood"] = round(during["p99"] / calm["p99"], 2)  # type: ignore[index]
        row["p99_ratio_to_window_before"] = round(during["p99"] / before["p99"], 2)  # type: ignore[index]
        if row["p99_ratio_to_no_flood"] <= TOLERANCE:
            within.append(int(rate))
    spread = [row["chat_before"]["p99"] / calm["p99"] for row in per_rate.values()]  # type: ignore[index]
    return {
        "no_flood_chat": calm,
        # How much no-flood windows differ among themselves: the noise a ratio must be read against.
        "no_flood_p99_spread": [round(min(spread), 2), round(max(spread), 2)],
        "rates": per_rate,
        "highest_rate_within_10pct": max(within) if within else None,
    }


def print_table(report: dict) -> None:
    print("| log-ins/s | chat p50 ms | p95 ms | p99 ms | p99 / no flood | checked (401) | refused (429) |")
    print("|---|---|---|---|---|---|---|")
    calm = report["no_flood_chat"]
    print(f"| 0 | {calm['p50']} | {calm['p95']} | {calm['p99']} | 1.0 | - | - |")
    for rate, row in report["rates"].items():
        s, login = row["chat_during"], row["login"]
        print(
            f"| {rate} | {s['p50']} | {s['p95']} | {s['p99']} | {row['p99_ratio_to_no_flood']} "
            f"| {login['checked_401']} | {login['refused_429']} |"
        )
    print("highest rate within 10 %:", report["highest_rate_within_10pct"])
    print("no-flood p99 spread between windows:", report["no_flood_p99_spread"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[10, 30, 100], help="log-ins per second")
    parser.add_argument("--customers", type=int, default=3, help="chat customers talking meanwhile")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each window")
    parser.add_argument("--addresses", type=int, default=20, help="client addresses per rate")
    args = parser.parse_args()
    db_path = PROJECT_ROOT / "var" / "bench" / f"login-flood-{uuid.uuid4().hex[:8]}.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    settings = bench_settings(f"sqlite+aiosqlite:///{db_path}")
    services = [actions_service(settings), rasa_service(settings), app_service(settings)]
    start_all(services, log_to_files=True)
    try:
        base_url = f"http://{settings.host}:{settings.port}"
        report = asyncio.run(measure(base_url, args.rates, args.customers, args.seconds, args.addresses))
    finally:
        stop_all(services)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    report["note"] = (
        "app, Rasa, action server and this client on one shared 2-core machine; windows alternate "
        "no flood / flood per rate; login throttle: 5 failures per login, 30 per address in 5 min"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print_table(report)


if __name__ == "__main__":
    main()
