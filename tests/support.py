"""Helpers shared by the tests: skipping (or failing under CI) when a system part is absent.

Ports and scratch databases live in testing/ (shared with bench/) and are re-exported here.
"""

from __future__ import annotations

import os

import pytest

from testing.ports import free_port
from testing.postgres import (
    POSTGRES_ADMIN_DSN,
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
    terminate_connections,
)

__all__ = [
    "CI",
    "POSTGRES_ADMIN_DSN",
    "create_postgres_database",
    "drop_postgres_database",
    "free_port",
    "postgres_available",
    "require",
    "terminate_connections",
]

CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip with a reason a user can act on; under CI a missing part is a failure, not a skip."""
    if condition:
        return
    if CI:
        pytest.fail(f"required for CI: {what}")
    pytest.skip(f"not available here: {what}")
