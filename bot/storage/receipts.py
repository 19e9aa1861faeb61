"""Receipts of handled updates: a platform that delivers an update twice gets one turn.

An update's key names the person (Telegram's is the chat id and message id, Signal's
the sender's UUID and timestamp), so a receipt keeps only a keyed hash of it: enough to
recognise the update when it comes again, and no trace of the person after `/forget`.
Receipts are needed for as long as a platform may deliver an update again (Telegram
keeps them a day); `forget_before` drops older ones.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete
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


def fingerprint(secret: bytes, key: str) -> str:
    """What a receipt stores of an update key: 40 hex digits of its HMAC-SHA256."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:40]


async def first_time(session: AsyncSession, channel: str, key: str, secret: bytes) -> bool:
    """Record the receipt of update `key`; False when it was recorded before.

    One statement either way (`ON CONFLICT DO NOTHING RETURNING`), so a redelivery
    costs no error and no savepoint.
    """
    statement = _record(dialect_of(session))
    values = {"channel": channel, "key": fingerprint(secret, key), "at": utcnow()}
    result = await session.execute(statement, values)
    return result.scalar_one_or_none() is not None


async def forget_before(session: AsyncSession, moment: datetime) -> int:
    """Drop receipts of updates received before `moment`; how many."""
    result = await session.execute(
        delete(InboundReceipt)
        .where(InboundReceipt.received_at < moment)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
