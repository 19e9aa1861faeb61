"""Updates fetched and not handled yet (see `models.InboxUpdate`).

A channel keeps each batch it fetches before it tells the platform it has them, and
forgets an update once handled. What is still here at start-up was fetched before a
crash: the channel handles it first. One transaction a fetch does both, the keeping of
the new batch and the forgetting of what was handled since the last one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import Database, insert_for
from bot.storage.models import InboxUpdate, utcnow

TABLE = InboxUpdate.__table__


@cache
def _keep(dialect: str) -> Any:
    # Built once a dialect: it runs on every fetch. A batch fetched again after a crash
    # is already here: kept once.
    return (
        insert_for(dialect, TABLE)
        .values(
            channel=bindparam("channel"),
            position=bindparam("position"),
            payload=bindparam("payload"),
            sender=bindparam("sender"),
            received_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["channel", "position"])
    )


_FORGET = delete(TABLE).where(
    TABLE.c.channel == bindparam("channel"),
    TABLE.c.position.in_(bindparam("positions", expanding=True)),
)


Kept = tuple[int, str, str | None]
"""`(position, payload, sender)`: the sender is the person's platform id, if any."""


async def exchange(
    database: Database,
    channel: str,
    fetched: Iterable[Kept],
    handled: Iterable[int] = (),
) -> None:
    """Keep the updates just fetched and forget those handled, in one transaction."""
    now = utcnow()
    rows = [
        {"channel": channel, "position": position, "payload": payload, "sender": sender, "at": now}
        for position, payload, sender in fetched
    ]
    done = sorted(set(handled))
    if not rows and not done:
        return
    async with database.engine.begin() as connection:
        if done:
            await connection.execute(_FORGET, {"channel": channel, "positions": done})
        if rows:
            await connection.execute(_keep(connection.dialect.name), rows)


async def forget_sender(session: AsyncSession, channel: str, sender: str) -> int:
    """Drop a person's waiting updates (they are being erased); how many."""
    result = await session.execute(
        delete(TABLE).where(TABLE.c.channel == channel, TABLE.c.sender == sender)
    )
    return result.rowcount


async def waiting(database: Database, channel: str) -> list[tuple[int, str]]:
    """The updates still waiting, oldest first: `(position, payload)`."""
    async with database.engine.connect() as connection:
        result = await connection.execute(
            select(TABLE.c.position, TABLE.c.payload)
            .where(TABLE.c.channel == channel)
            .order_by(TABLE.c.position)
        )
        return [(position, payload) for position, payload in result.all()]
