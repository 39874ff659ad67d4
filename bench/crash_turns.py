"""kill -9 under load: are acknowledged web chat turns ever lost or stored twice?

Starts the whole front line (real Rasa and action server), then 20 web chat customers talk as a web
widget would: each sends its next message when the last one is answered, with a client
`message_id` per message, and after a connection error (or a 5xx) sends the same message again with
the same id until it is answered. Meanwhile the app process is killed with SIGKILL a few times,
at a random moment mid-load, and started again on the same database.

Afterwards the database is read directly and compared with what each client saw acknowledged
(HTTP 200): lost turns (acknowledged, not stored), duplicated turns (one client message stored more
than once, or an inbound row without its message id), turns stored out of the client's order, and
turns acknowledged with no reply at all (the retry found the turn stored but the bot's answer
never written). Run with `python -m bench.crash_turns [--db postgresql]`; results go to
bench/results/crash_turns_<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.launcher import Service, actions_service, app_service, rasa_service, start_all, stop_all
from bench.chat_turns import MESSAGES, bench_settings
from bench.stats import summary_ms
from core.kinds import Direction
from core.models import ConversationSession, Customer, Message
from core.repo.sessions import CLIENT_MESSAGE_ID
from core.settings import PROJECT_ROOT
from testing.postgres import create_postgres_database, drop_postgres_database

# Twenty customers from one address: the new-conversation limit is for strangers.
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

RESULTS = PROJECT_ROOT / "bench" / "results" / "crash_turns.json"
RETRY_PAUSE_S = 0.3
GIVE_UP_S = 180.0  # a client retries one message this long before it counts it as not delivered


@dataclass
class Client:
    """One customer's widget: what it sent, in order, and what the app acknowledged."""

    customer: str
    token: str | None = None
    sent: list[str] = field(default_factory=list)  # message ids in sending order
    acked: set[str] = field(default_factory=set)
    acked_without_reply: list[str] = field(default_factory=list)
    retried_without_reply: list[str] = field(default_factory=list)  # of those, sent more than once
    given_up: list[str] = field(default_factory=list)
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


async def send_until_acked(http: httpx.AsyncClient, client: Client, text: str) -> None:
    message_id = uuid.uuid4().hex
    client.sent.append(message_id)
    started, attempts = time.perf_counter(), 0
    while time.perf_counter() - started < GIVE_UP_S:
        attempts += 1
        headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
        body = {"customer": client.customer, "text": text, "message_id": message_id}
        try:
            response = await http.post("/api/chat", json=body, headers=headers)
        except httpx.TransportError as exc:
            client.errors[type(exc).__name__] += 1
        else:
            if response.status_code == 200:
                answer = response.json()
                client.token = answer.get("token") or client.token
                client.acked.add(message_id)
                if not answer["replies"]:
                    client.acked_without_reply.append(message_id)
                    if attempts > 1:
                        client.retried_without_reply.append(message_id)
                client.latencies.append(time.perf_counter() - started)
                return
            client.errors[str(response.status_code)] += 1
            if response.status_code < 500:
                break  # refused (401, 422): a retry would be refused alike
        client.retries += 1
        await asyncio.sleep(RETRY_PAUSE_S)
    client.given_up.append(message_id)


async def talk(base_url: str, client: Client, until: float) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        turn = 0
        while time.perf_counter() < until:
            await send_until_acked(http, client, MESSAGES[turn % len(MESSAGES)])
            turn += 1


async def crash_and_restart(app: Service, kills: int, interval_s: float) -> list[dict[str, float]]:
    """SIGKILL the app at a random moment in each interval, then start it on the same database."""
    crashes = []
    for _ in range(kills):
        await asyncio.sleep(interval_s * random.uniform(0.5, 1.0))
        assert app.process is not None
        app.signal_group(signal.SIGKILL)
        killed = time.perf_counter()
        await asyncio.to_thread(app.process.wait)
        await asyncio.to_thread(app.start, True)
        await asyncio.to_thread(app.wait_healthy)
        crashes.append({"down_s": round(time.perf_counter() - killed, 1)})
    return crashes


async def load(base_url: str, app: Service, customers: int, kills: int, interval_s: float) -> dict:
    clients = [Client(f"crash-{uuid.uuid4().hex[:10]}") for _ in range(customers)]
    until = time.perf_counter() + interval_s * (kills + 1)
    crashes, *_ = await asyncio.gather(
        crash_and_restart(app, kills, interval_s), *(talk(base_url, c, until) for c in clients)
    )
    return {"clients": clients, "crashes": crashes}


async def stored_turns(db_url: str, customer_keys: list[str]) -> dict[str, list[str | None]]:
    """Each customer's inbound rows, oldest first, as the client message ids they carry."""
    engine = create_async_engine(db_url)
    query = (
        select(Customer.key, Message.payload)
        .join(ConversationSession, ConversationSession.customer_id == Customer.id)
        .join(Message, Message.session_id == ConversationSession.id)
        .where(Customer.key.in_(customer_keys), Message.direction == Direction.IN)
        .order_by(Message.id)
    )
    stored: dict[str, list[str | None]] = {key: [] for key in customer_keys}
    try:
        async with engine.connect() as conn:
            for key, payload in await conn.execute(query):
                stored[key].append((payload or {}).get(CLIENT_MESSAGE_ID))
    finally:
        await engine.dispose()
    return stored


def compare(clients: list[Client], stored: dict[str, list[str | None]]) -> dict[str, int]:
    lost = duplicated = without_id = out_of_order = stored_unacked = 0
    for client in clients:
        rows = stored[f"web:{client.customer}"]
        counts = Counter(rows)
        lost += sum(1 for m in client.acked if counts[m] == 0)
        duplicated += sum(n - 1 for m, n in counts.items() if m is not None and n > 1)
        without_id += counts[None]
        stored_unacked += sum(1 for m in counts if m is not None and m not in client.acked)
        first_seen = list(dict.fromkeys(m for m in rows if m is not None))
        in_order = [m for m in client.sent if m in counts]
        out_of_order += sum(1 for a, b in zip(first_seen, in_order, strict=False) if a != b)
    return {
        "acknowledged": sum(len(c.acked) for c in clients),
        "lost_acknowledged": lost,
        "duplicated": duplicated,
        "stored_without_message_id": without_id,
        "stored_not_acknowledged": stored_unacked,
        "out_of_order": out_of_order,
        "acknowledged_without_reply": sum(len(c.acked_without_reply) for c in clients),
        "acknowledged_without_reply_after_a_retry": sum(len(c.retried_without_reply) for c in clients),
        "given_up": sum(len(c.given_up) for c in clients),
    }


def database_url(kind: str, name: str) -> str:
    if kind == "postgresql":
        return create_postgres_database(name)
    path = PROJECT_ROOT / "var" / "bench" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--kills", type=int, default=3, help="times the app is killed")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds of load around each kill")
    args = parser.parse_args()
    name = f"frontline_crash_{uuid.uuid4().hex[:8]}"
    settings = bench_settings(database_url(args.db, name))
    services = [actions_service(settings), rasa_service(settings), app_service(settings)]
    start_all(services, log_to_files=True)
    try:
        base_url = f"http://{settings.host}:{settings.port}"
        run = asyncio.run(load(base_url, services[2], args.customers, args.kills, args.interval))
    finally:
        stop_all(services)
    try:
        clients: list[Client] = run["clients"]
        stored = asyncio.run(stored_turns(settings.db.url, [f"web:{c.customer}" for c in clients]))
    finally:
        if args.db == "postgresql":
            drop_postgres_database(name)
            drop_postgres_database(f"{name}_rasa")  # Rasa's trackers, beside the app's
    report = {
        "database": args.db,
        "customers": args.customers,
        "crashes": run["crashes"],
        "turns": compare(clients, stored),
        "retries": sum(c.retries for c in clients),
        "client_errors": dict(sum((c.errors for c in clients), Counter())),
        "turn_ms_including_retries": summary_ms([s for c in clients for s in c.latencies]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.with_name(f"crash_turns_{args.db}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
