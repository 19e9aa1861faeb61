"""A migrated database for the storage tests, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage.db import Database
from bot.storage.migrate import upgrade


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    upgrade(database_url)
    built = Database(database_url)
    try:
        yield built
    finally:
        await built.close()
