"""An update delivered twice is recognised the second time, per channel."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.storage import receipts
from bot.storage.db import Database
from bot.storage.models import InboundReceipt, utcnow

SECRET = b"test-secret"


async def test_a_receipt_is_recorded_once(database: Database) -> None:
    async with database.transaction() as session:
        assert await receipts.first_time(session, "telegram", "u1", SECRET)
        assert not await receipts.first_time(session, "telegram", "u1", SECRET)
        assert await receipts.first_time(session, "signal", "u1", SECRET)
    async with database.transaction() as session:
        assert not await receipts.first_time(session, "telegram", "u1", SECRET)
        assert await receipts.first_time(session, "telegram", "u2", SECRET)


async def test_a_receipt_keeps_no_id_of_the_person(database: Database) -> None:
    key = "m424242:17"  # Telegram's: the chat id (the person) and the message id
    async with database.transaction() as session:
        await receipts.first_time(session, "telegram", key, SECRET)
    async with database.transaction() as session:
        stored = (await session.execute(select(InboundReceipt.key))).scalars().all()
    assert stored == [receipts.fingerprint(SECRET, key)]
    assert "424242" not in stored[0]
    assert receipts.fingerprint(b"another key", key) != stored[0]


async def test_old_receipts_are_forgotten(database: Database) -> None:
    async with database.transaction() as session:
        await receipts.first_time(session, "telegram", "old", SECRET)
        await receipts.first_time(session, "telegram", "new", SECRET)
        old = (
            await session.execute(
                select(InboundReceipt).where(
                    InboundReceipt.key == receipts.fingerprint(SECRET, "old")
                )
            )
        ).scalar_one()
        old.received_at = utcnow() - timedelta(days=8)
    async with database.transaction() as session:
        assert await receipts.forget_before(session, utcnow() - timedelta(days=7)) == 1
    async with database.transaction() as session:
        assert await receipts.first_time(session, "telegram", "old", SECRET)  # forgotten
        assert not await receipts.first_time(session, "telegram", "new", SECRET)
