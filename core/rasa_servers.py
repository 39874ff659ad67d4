"""Which Rasa server a conversation goes to: rendezvous hashing of the Rasa sender id (pure, no I/O).

Every app process ranks the servers alike for a sender id, so a conversation stays on one server
(its lock and caches stay warm there); when a server leaves, only its own conversations move, each
to the next server in its own ranking, and they come back when it returns.
"""

from __future__ import annotations

import hashlib


def ranked(servers: list[str], sender_id: str) -> list[str]:
    """The servers in the order this conversation tries them: its own first, then its fail-overs."""
    return sorted(servers, key=lambda server: _weight(server, sender_id), reverse=True)


def _weight(server: str, sender_id: str) -> int:
    # A stable digest, not hash(): Python salts str hashes per process, and processes must agree.
    digest = hashlib.blake2b(f"{server}\n{sender_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
