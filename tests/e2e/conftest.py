"""The real stack for end-to-end tests: `rasa_stack` and `stack_settings` come from tests/conftest.py
(shared with the channel tests, so Rasa starts once per run)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.settings import Settings
from tests.chat import FrontLine, running_front_line
from tests.stack import RasaStack

pytestmark = pytest.mark.e2e

__all__ = ["RasaStack"]


@pytest.fixture
async def front_line(stack_settings: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(stack_settings) as front_line:
        yield front_line
