"""Which operators have a console open right now, and since when (in this process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from core.models import utcnow


class Presence:
    """Counts open live streams per operator: several tabs are one operator, online until the last closes."""

    def __init__(self) -> None:
        self._streams: dict[int, int] = {}
        self._since: dict[int, datetime] = {}

    @contextmanager
    def online(self, operator_id: int) -> Iterator[None]:
        if not self._streams.get(operator_id):
            self._since[operator_id] = utcnow()
        self._streams[operator_id] = self._streams.get(operator_id, 0) + 1
        try:
            yield
        finally:
            self._streams[operator_id] -= 1
            if not self._streams[operator_id]:
                del self._streams[operator_id], self._since[operator_id]

    def since(self) -> dict[int, datetime]:
        """Online operators and when they came online."""
        return dict(self._since)
