"""One customer's turns are handled in order; other customers are not held up."""

import asyncio

from core.locks import KeyedLocks


async def test_same_key_runs_in_order_other_keys_in_parallel() -> None:
    locks = KeyedLocks()
    log: list[str] = []

    async def turn(key: str, name: str, delay: float) -> None:
        async with locks.hold(key):
            log.append(f"start {name}")
            await asyncio.sleep(delay)
            log.append(f"end {name}")

    first = asyncio.create_task(turn("alice", "a1", 0.05))
    await asyncio.sleep(0)
    second = asyncio.create_task(turn("alice", "a2", 0))
    other = asyncio.create_task(turn("bob", "b1", 0))
    await asyncio.gather(first, second, other)

    assert log.index("end a1") < log.index("start a2")
    assert log.index("end b1") < log.index("end a1")
    assert len(locks) == 0  # nothing kept once everyone is done
