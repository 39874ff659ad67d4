"""Operator passwords (scrypt, stdlib) and bearer tokens (random, stored as SHA-256)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

_N, _R, _P = 2**14, 8, 1
# scrypt takes about 30 ms of CPU by design: off the event loop (chat, live events and call audio
# share it), on one thread of its own, so a burst of log-ins queues instead of taking every worker.
# The thread runs below the rest of the process in priority (a Linux thread's niceness): in a flood
# of wrong passwords, chat turns and call audio get the CPU first and the checks wait (then 503).
CHECK_NICENESS = 10


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECK_NICENESS)


_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check", initializer=_lower_priority)
# Checks waiting for that thread: beyond this (about half a second of work) a log-in is refused at
# once rather than queued, so a flood cannot make a real operator wait minutes.
MAX_WAITING_CHECKS = 16
_waiting = 0


class PasswordChecksBusy(Exception):
    """Too many log-ins are being checked right now: try again in a moment."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


# Checked when the login does not exist, so an unknown login costs as much time as a known one.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


async def check_password(password: str, stored: str | None) -> bool:
    """verify_password off the event loop; an unknown login (None) is checked against a dummy hash.
    Raises PasswordChecksBusy when MAX_WAITING_CHECKS are queued already."""
    global _waiting
    if _waiting >= MAX_WAITING_CHECKS:
        raise PasswordChecksBusy
    _waiting += 1
    try:
        loop = asyncio.get_running_loop()
        matches = await loop.run_in_executor(_HASHING, verify_password, password, stored or _DUMMY_HASH)
    finally:
        _waiting -= 1
    return matches and stored is not None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
