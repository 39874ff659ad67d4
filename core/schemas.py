"""Channel-neutral data passed between adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The largest row id the databases store (a signed 64-bit integer): a larger one in a request is
# answered 422, not passed on to overflow in the driver (a 500).
MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class InboundTurn:
    """What any channel hands the core: who, where, in which language, and what they said."""

    customer_key: str  # namespaced: "web:alice", "tg:123", "tel:+14155550134"
    channel: str
    text: str
    # The channel's idea of the language (a widget setting, Telegram's UI language, the IVR line);
    # None when it does not know: the core then reads it from the text.
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The channel knows this is the turn's first delivery (a Telegram update stored just now for the
    # first time): the core skips looking for a stored copy under its client message id.
    first_delivery: bool = False


@dataclass(frozen=True)
class TurnResult:
    session_id: int
    state: str
    replies: tuple[Reply, ...]
