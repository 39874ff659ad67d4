"""One worker per chat: a chat's jobs run strictly one after another, different chats in parallel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.telegram.logsafe import log_failure

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class ChatWorkers:
    """A queue and a task per chat with work; the task ends when its queue runs dry."""

    def __init__(self) -> None:
        self._queues: dict[int, asyncio.Queue[Job]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, chat_id: int, job: Job) -> None:
        queue = self._queues.get(chat_id)
        if queue is None:
            queue = self._queues[chat_id] = asyncio.Queue()
            task = asyncio.create_task(self._run(chat_id, queue), name=f"telegram-chat-{chat_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        queue.put_nowait(job)

    async def _run(self, chat_id: int, queue: asyncio.Queue[Job]) -> None:
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                # No await between the empty check and the removal: a job submitted meanwhile
                # either found this queue (and is taken above) or starts a new worker.
                del self._queues[chat_id]
                return
            try:
                await job()
            except Exception as exc:  # one failed job must not stop the chat's later ones
                log_failure(logger, "telegram job failed chat_id=%s", chat_id, error=exc)

    async def drain(self, timeout: float) -> None:
        """Let running jobs finish (on shutdown); what is left stays stored and runs on next start."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def has(self, chat_id: int) -> bool:
        """A chat with work queued or running."""
        return chat_id in self._queues
