"""Lazily built database and catalogue for the action server, which has no composition root."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.catalogue import Catalogue, load_catalogue
from core.db import create_engine, create_session_factory
from core.settings import get_settings


@lru_cache
def catalogue() -> Catalogue:
    return load_catalogue(get_settings().catalogue_path)


@lru_cache
def db_sessions() -> async_sessionmaker[AsyncSession]:
    """One engine per action-server process, created on first use, not at import."""
    return create_session_factory(create_engine(get_settings().db))
