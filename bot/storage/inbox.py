"""Updates fetched and not handled yet (see `models.InboxUpdate`).

A channel keeps each batch it fetches before it tells the platform it has them, and
forgets an update once handled. What is still here at start-up was fetched before a
crash: the channel handles it first. One transaction a fetch does both, the keeping of
the new batch and the forgetting of what was handled since the last one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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
    async with database.begin() as connection:
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


# ---- several processes on PostgreSQL ------------------------------------------------------
#
# Each process claims updates to handle: the oldest waiting update of each person (an
# update of someone with an older one still in the inbox waits, so one person's updates
# are handled one at a time, in the platform's order), skipping rows another process is
# claiming at that moment (`SKIP LOCKED`). A claim has a lease, renewed while the update
# is handled; a process that dies has its claims released (`release`) and another
# process handles them.

Claimed = tuple[int, int, str, bool]
"""`(id, position, payload, retried)` of a claimed update; `retried`: claimed before,
by a process that died or overran its lease, so it may have been handled already."""


def _claim_statement(channel: str, process: int, limit: int, lease: float) -> Any:
    mine = TABLE.alias("mine")
    older = TABLE.alias("older")
    earlier = (
        select(older.c.id)
        .where(
            older.c.channel == mine.c.channel,
            older.c.sender == mine.c.sender,
            older.c.position < mine.c.position,
        )
        .exists()
    )
    free = (
        select(mine.c.id, mine.c.claimed_by.label("before"))
        .where(
            mine.c.channel == channel,
            or_(mine.c.lease_until.is_(None), mine.c.lease_until < func.now()),
            ~earlier,
        )
        .order_by(mine.c.position)
        .limit(limit)
        .with_for_update(skip_locked=True, of=mine)
        .subquery("free")
    )
    return (
        update(TABLE)
        .where(TABLE.c.id == free.c.id)
        .values(claimed_by=process, lease_until=func.now() + timedelta(seconds=lease))
        .returning(TABLE.c.id, TABLE.c.position, TABLE.c.payload, free.c.before.is_not(None))
    )


async def claim(
    database: Database,
    channel: str,
    process: int,
    limit: int,
    lease: float,
    handled: Iterable[int] = (),
) -> list[Claimed]:
    """Forget the updates `handled` (row ids), then claim up to `limit`; oldest first.

    One transaction: a person's next update can be claimed in the same breath as the
    one before it is forgotten.
    """
    done = sorted(set(handled))
    async with database.engine.begin() as connection:
        if done:
            await connection.execute(
                delete(TABLE).where(TABLE.c.id.in_(done), TABLE.c.claimed_by == process)
            )
        if limit <= 0:
            return []
        result = await connection.execute(_claim_statement(channel, process, limit, lease))
        rows = [
            (int(id_), int(position), payload, bool(retried))
            for id_, position, payload, retried in result.all()
        ]
    rows.sort(key=lambda row: row[1])
    return rows


async def renew(
    connection: AsyncConnection, process: int, ids: Iterable[int], lease: float
) -> None:
    """Extend the leases of the updates this process is still handling."""
    held = sorted(set(ids))
    if held:
        await connection.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(held), TABLE.c.claimed_by == process)
            .values(lease_until=func.now() + timedelta(seconds=lease))
        )


async def release(connection: AsyncConnection, alive: set[int]) -> int:
    """Release the claims of processes that are not alive; how many.

    The row keeps who claimed it (without a lease), so that the next claim knows it is
    a second try (`Claimed`).
    """
    result = await connection.execute(
        update(TABLE)
        .where(
            TABLE.c.claimed_by.is_not(None),
            TABLE.c.lease_until.is_not(None),
            TABLE.c.claimed_by.not_in(sorted(alive) or [-1]),
        )
        .values(lease_until=None)
    )
    return result.rowcount
