"""Background tasks with an owner: a failure is logged with its traceback, the task restarted with
capped backoff, and a task that is restarting or dead is named by `/healthz`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

logger = logging.getLogger(__name__)

BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 60.0
# A run that lasted this long was healthy: the next failure starts the backoff afresh.
STABLE_AFTER_S = 300.0

Run = Callable[[], Awaitable[None]]


class TaskState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"
    DEAD = "dead"


class Supervisor:
    """Runs each task for as long as the app runs; returning is a failure too, since every
    supervised task is a loop that should never end on its own."""

    def __init__(self, backoff_min_s: float = BACKOFF_MIN_S, backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self._backoff = (backoff_min_s, backoff_max_s)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states: dict[str, TaskState] = {}

    def start(self, name: str, run: Run) -> None:
        self._states[name] = TaskState.RUNNING
        self._tasks[name] = asyncio.create_task(self._keep(name, run), name=name)

    def unhealthy(self) -> dict[str, str]:
        """The tasks that are not doing their job right now, with what they are doing instead."""
        found = {}
        for name, task in self._tasks.items():
            state = TaskState.DEAD if task.done() else self._states[name]
            if state is not TaskState.RUNNING:
                found[name] = state.value
        return found

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep(self, name: str, run: Run) -> None:
        delay = self._backoff[0]
        while True:
            self._states[name] = TaskState.RUNNING
            started = time.monotonic()
            error: Exception | None = None
            try:
                await run()
            except Exception as exc:
                error = exc
            if time.monotonic() - started >= STABLE_AFTER_S:
                delay = self._backoff[0]
            self._states[name] = TaskState.RESTARTING
            what = "failed" if error else "ended on its own"
            logger.error("background task %s %s; restarting in %.0f s", name, what, delay, exc_info=error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])


class ChannelTaskEnded(RuntimeError):
    """One of a channel's own loops stopped: the whole channel is restarted."""


async def until_one_ends(tasks: list[asyncio.Task[None]]) -> None:
    """Waits for the first of a component's tasks to end and raises with its name (and its error)."""
    if not tasks:
        await asyncio.Event().wait()
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    task = done.pop()
    error = None if task.cancelled() else task.exception()
    raise ChannelTaskEnded(f"{task.get_name()} {'failed' if error else 'ended'}") from error
