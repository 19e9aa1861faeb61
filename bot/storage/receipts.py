"""Receipts of handled updates: a platform that delivers an update twice gets one turn."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import dialect_of, insert_for
from bot.storage.models import InboundReceipt, utcnow

TABLE = InboundReceipt.__table__


@cache
def _record(dialect: str) -> Any:
    # Built once a dialect: this runs on every update.
    return (
        insert_for(dialect, TABLE)
        .values(channel=bindparam("channel"), key=bindparam("key"), received_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["channel", "key"])
        .returning(TABLE.c.id)
    )


async def first_time(session: AsyncSession, channel: str, key: str) -> bool:
    """Record the receipt of update `key`; False when it was recorded before.

    One statement either way (`ON CONFLICT DO NOTHING RETURNING`), so a redelivery
    costs no error and no savepoint.
    """
    statement = _record(dialect_of(session))
    result = await session.execute(statement, {"channel": channel, "key": key, "at": utcnow()})
    return result.scalar_one_or_none() is not None
