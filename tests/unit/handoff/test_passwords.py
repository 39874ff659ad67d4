"""Operator passwords: checked off the event loop, below chat and call audio in priority."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from handoff import passwords
from handoff.passwords import PasswordChecksBusy, check_password, hash_password


async def test_a_password_is_checked_against_its_hash_and_an_unknown_login_is_refused() -> None:
    stored = hash_password("anna-secret-pw")
    assert await check_password("anna-secret-pw", stored)
    assert not await check_password("guess", stored)
    assert not await check_password("anna-secret-pw", None)  # unknown login: checked all the same


async def test_checks_run_below_the_rest_of_the_process_in_priority() -> None:
    """A flood of wrong passwords must not take the CPU from chat turns and call audio."""
    await check_password("x", None)  # the checking thread exists now
    where = await asyncio.get_running_loop().run_in_executor(passwords._HASHING, threading.get_native_id)

    assert os.getpriority(os.PRIO_PROCESS, where) > os.getpriority(os.PRIO_PROCESS, 0)


async def test_a_log_in_is_refused_at_once_when_too_many_checks_are_waiting() -> None:
    checks = [asyncio.ensure_future(check_password("x", None)) for _ in range(passwords.MAX_WAITING_CHECKS)]
    await asyncio.sleep(0)  # every one has taken its place in the queue

    with pytest.raises(PasswordChecksBusy):
        await check_password("x", None)
    assert not any(await asyncio.gather(*checks))
