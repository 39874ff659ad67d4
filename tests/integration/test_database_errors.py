"""A failed statement's error (logged, or shown to whoever sees the 500) holds no customer data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.models import Customer
from core.settings import DbSettings


async def test_a_failed_insert_does_not_echo_the_customers_details(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    sessions = create_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            db.add(Customer(key="web:anna", full_name="Anna Karenina", phone="+79161234567"))
        with pytest.raises(IntegrityError) as failed:
            async with sessions() as db, db.begin():
                db.add(Customer(key="web:anna", full_name="Anna Karenina", phone="+79161234567"))
        assert "UNIQUE" in str(failed.value)
        assert "Karenina" not in str(failed.value) and "9161234567" not in str(failed.value)
    finally:
        await engine.dispose()
