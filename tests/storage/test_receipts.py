"""An update delivered twice is recognised the second time, per channel."""

from __future__ import annotations

from bot.storage import receipts
from bot.storage.db import Database


async def test_a_receipt_is_recorded_once(database: Database) -> None:
    async with database.transaction() as session:
        assert await receipts.first_time(session, "telegram", "u1")
        assert not await receipts.first_time(session, "telegram", "u1")
        assert await receipts.first_time(session, "signal", "u1")
    async with database.transaction() as session:
        assert not await receipts.first_time(session, "telegram", "u1")
        assert await receipts.first_time(session, "telegram", "u2")
