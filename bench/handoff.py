"""Operator side: escalation -> card visible in a connected console, and claim latency under load.

1. A console is connected to the live event stream. A customer's message escalates (no bot is
   reachable, so the first message is queued at once); we time from sending the message to the
   console having the `ticket_queued` event AND the full context card fetched.
2. On PostgreSQL, 50 operators claim 50 different waiting sessions at the same instant (10 rounds),
   then 50 operators work as people do (each claims, closes, pauses up to 1 s, claims again);
   we time every claim request.
Run with `make bench`; results go to bench/results/handoff.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid

import aiohttp
import httpx

from app.launcher import app_service, start_all, stop_all
from bench.stats import summary_ms
from core.settings import PROJECT_ROOT, DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from testing.ports import free_port
from testing.postgres import create_postgres_database, drop_postgres_database

# The load generator opens many conversations from one address: the per-address limit is for
# strangers, not for this benchmark (the app process reads it from the environment).
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"

ESCALATIONS = 100
OPERATORS = 50
CLAIM_ROUNDS = 10
RESULTS = PROJECT_ROOT / "bench" / "results" / "handoff.json"


async def log_in(http: httpx.AsyncClient, login: str) -> str:
    response = await http.post("/api/operator/login", json={"login": login, "password": f"{login}-bench-pw"})
    response.raise_for_status()
    return str(response.json()["token"])


async def escalation_to_card(base: str, token: str) -> list[float]:
    samples: list[float] = []
    auth = bearer(token)
    async with httpx.AsyncClient(base_url=base, timeout=30) as tickets:
        ticket = (await tickets.post("/api/operator/events/ticket", headers=auth)).json()["ticket"]
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as http,
        http.stream("GET", "/api/operator/events", params={"ticket": ticket}) as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith(": connected")
        for _ in range(ESCALATIONS):
            started = time.perf_counter()
            await http.post("/api/chat", json={"customer": f"b-{uuid.uuid4().hex[:8]}", "text": "help"})
            ticket_id = await _next_queued(lines)
            card = await http.get(f"/api/operator/tickets/{ticket_id}", headers=auth)
            card.raise_for_status()
            samples.append(time.perf_counter() - started)
    return samples


async def _next_queued(lines: object) -> int:
    kind = ""
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "ticket_queued":
            return int(json.loads(line[6:])["ticket_id"])
    raise RuntimeError("event stream ended")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def queue_customers(http: httpx.AsyncClient, count: int, token: str) -> list[int]:
    """`count` customers write at once (no bot, so each is queued); the waiting tickets' ids."""
    await asyncio.gather(
        *(
            http.post("/api/chat", json={"customer": f"q-{uuid.uuid4().hex[:8]}", "text": "hi"})
            for _ in range(count)
        )
    )
    return [t["id"] for t in (await http.get("/api/operator/queue", headers=bearer(token))).json()]


def operator_client(base: str) -> aiohttp.ClientSession:
    """The operators' side of the load. aiohttp, not httpx: it needs a fraction of the CPU per
    request, and the load generator shares the machine's two cores with the app and PostgreSQL."""
    connector = aiohttp.TCPConnector(limit=OPERATORS + 10)
    return aiohttp.ClientSession(base_url=base, connector=connector, timeout=aiohttp.ClientTimeout(total=60))


async def timed_claim(ops: aiohttp.ClientSession, token: str, ticket_id: int, samples: list[float]) -> None:
    started = time.perf_counter()
    async with ops.post(f"/api/operator/tickets/{ticket_id}/claim", headers=bearer(token)) as response:
        await response.read()
        samples.append(time.perf_counter() - started)
        assert response.status == 200, await response.text()


async def close(ops: aiohttp.ClientSession, token: str, ticket_id: int) -> None:
    async with ops.post(
        f"/api/operator/tickets/{ticket_id}/close", headers=bearer(token), json={"disposition": "resolved"}
    ) as response:
        assert response.status == 204, await response.text()


async def claims(base: str, tokens: list[str]) -> list[float]:
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http, operator_client(base) as ops:
        for _ in range(CLAIM_ROUNDS):
            ids = (await queue_customers(http, len(tokens), tokens[0]))[: len(tokens)]
            pairs = list(zip(tokens, ids, strict=True))
            await asyncio.gather(*(timed_claim(ops, token, tid, samples) for token, tid in pairs))
            await asyncio.gather(*(close(ops, token, tid) for token, tid in pairs))
    return samples


async def staggered_claims(base: str, tokens: list[str]) -> list[float]:
    """Operators at work: each claims, handles for a moment, closes, and claims again."""
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        ids = iter(await queue_customers(http, len(tokens) * CLAIM_ROUNDS, tokens[0]))
    async with operator_client(base) as ops:

        async def operator(token: str) -> None:
            for _ in range(CLAIM_ROUNDS):
                await asyncio.sleep(random.uniform(0, 1.0))  # reading the card before claiming
                ticket_id = next(ids)
                await timed_claim(ops, token, ticket_id, samples)
                await close(ops, token, ticket_id)

        await asyncio.gather(*(operator(token) for token in tokens))
    return samples


async def run(settings: Settings, base: str) -> dict[str, object]:
    logins = [f"bench{i}" for i in range(OPERATORS)]
    for login in logins:
        await save_operator(
            settings, login, f"{login}-bench-pw", display_name=login,
            skills=["general"], languages=["en"], max_sessions=5,
        )  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        tokens = [await log_in(http, login) for login in logins]
    return {
        "escalation_to_card_ms": summary_ms(await escalation_to_card(base, tokens[0])),
        "claim_ms_50_operators_at_once": summary_ms(await claims(base, tokens)),
        "claim_ms_50_operators_working": summary_ms(await staggered_claims(base, tokens)),
    }


def main() -> None:
    name = f"frontline_bench_handoff_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    settings = Settings(
        port=free_port(),
        db=DbSettings(url=url),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    # The app runs in its own process, as deployed: the load generator must not share its GIL.
    app = app_service(settings)
    app.env["FRONTLINE_RASA__CONNECT_RETRIES"] = "0"  # no bot: escalate on the first refusal
    start_all([app], log_to_files=True)
    try:
        report = asyncio.run(run(settings, f"http://{settings.host}:{settings.port}"))
    finally:
        stop_all([app])
        drop_postgres_database(name)
    report["database"] = "postgresql"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
