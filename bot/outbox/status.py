"""The outbox's state for people: a broadcast's progress, counts per kind and status, problems."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage
from bot.storage.models.outbox import (
    QUEUED,
    SENDING,
    STATUSES,
    UNREACHABLE,
)

log = logging.getLogger(__name__)

TABLE = OutboxMessage.__table__


# ---- visibility --------------------------------------------------------------------------


@dataclass
class Progress:
    """A broadcast's progress, for the worker who sent it and for operators."""

    batch_id: str | None
    counts: dict[str, int]
    next_due: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pending(self) -> int:
        return self.counts.get(QUEUED, 0) + self.counts.get(SENDING, 0)

    @property
    def done(self) -> bool:
        return self.total > 0 and self.pending == 0

    def __getattr__(self, name: str) -> int:
        if name in STATUSES:
            return self.counts.get(name, 0)
        raise AttributeError(name)


async def status_counts(
    session: AsyncSession, batch_id: str | None = None
) -> dict[str, dict[str, int]]:
    """Rows per kind and status (`{kind: {status: n}}`), of one broadcast or all."""
    statement = select(TABLE.c.kind, TABLE.c.status, func.count()).group_by(
        TABLE.c.kind, TABLE.c.status
    )
    if batch_id is not None:
        statement = statement.where(TABLE.c.batch_id == batch_id)
    counts: dict[str, dict[str, int]] = {}
    for kind, status, count in await session.execute(statement):
        counts.setdefault(kind, {})[status] = count
    return counts


async def broadcast_progress(session: AsyncSession, batch_id: str) -> Progress:
    """How far a broadcast is: queued, sending, sent, failed, dead, unreachable, cancelled."""
    rows = await session.execute(
        select(TABLE.c.status, func.count(), func.min(TABLE.c.due_at))
        .where(TABLE.c.batch_id == batch_id)
        .group_by(TABLE.c.status)
    )
    counts = {status: 0 for status in STATUSES}
    next_due = None
    for status, count, due in rows:
        counts[status] = count
        if status == QUEUED:
            next_due = due
    return Progress(batch_id, counts, next_due)


async def problems(session: AsyncSession, limit: int = 10) -> list[OutboxMessage]:
    """The latest dead, failed or unreachable rows, with their reasons."""
    result = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(("dead", "failed", UNREACHABLE)))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(result.scalars())
