"""How long the outbox keeps trying, and putting given-up (`dead`) rows back in the queue.

A timeout or a 5xx answer is tried again after 30 s, 1 min, 2 min, ... doubling up to
an hour between tries. How many tries a row gets depends on what it is worth later:

| rows | attempts | they stop after about |
|---|---|---|
| replies sent again, urgent notices (a proposal to a worker) | 8 | 1 hour |
| everything else: broadcasts, invitations, follow-ups, reminders, notices | 32 | 25 hours |

So a Telegram outage of a whole day delays a broadcast, it does not lose it; a reply
that comes a day late helps nobody (and has its own `expires_at`), nor does an
invitation after its activity began (it expires at the start). A rate limit (429)
never uses up an attempt.

After a longer outage, `buurtbot outbox retry` puts `dead` rows back in the queue
(`requeue_dead`), all of them or those of one broadcast or since a time, with a fresh
attempt budget. Rows whose `expires_at` has passed stay dead: they are no use now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage, utcnow
from bot.storage.models.outbox import DEAD, QUEUED, REPLY_KINDS

FIRST_BACKOFF = timedelta(seconds=30)
LONGEST_BACKOFF = timedelta(hours=1)
SHORT_BUDGET = 8  # replies and urgent notices: about an hour of trying
LONG_BUDGET = 32  # everything else: about 25 hours of trying


def attempt_budget(kind: str, urgent: bool) -> int:
    """How many attempts a row of `kind` gets before it is `dead`."""
    if kind in REPLY_KINDS or urgent:
        return SHORT_BUDGET
    return LONG_BUDGET


def backoff(
    attempts: int, first: timedelta = FIRST_BACKOFF, longest: timedelta = LONGEST_BACKOFF
) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2, ...)."""
    return min(first * (2 ** max(attempts - 1, 0)), longest)


def trying_for(budget: int) -> timedelta:
    """How long after the first attempt the last one comes (no rate limits)."""
    return sum((backoff(n) for n in range(1, budget)), timedelta())


async def requeue_dead(
    session: AsyncSession,
    *,
    batch_id: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Put dead rows back in the queue, due now, with a fresh budget; how many.

    `since` takes the rows queued at or after that time. Rows past their `expires_at`
    stay dead.
    """
    now = now or utcnow()
    table = OutboxMessage.__table__
    conditions = [
        table.c.status == DEAD,
        or_(table.c.expires_at.is_(None), table.c.expires_at > now),
    ]
    if batch_id is not None:
        conditions.append(table.c.batch_id == batch_id)
    if since is not None:
        conditions.append(table.c.created_at >= since)
    result = await session.execute(
        update(table)
        .where(*conditions)
        .values(
            status=QUEUED,
            attempts=0,
            due_at=now,
            claimed_by=None,
            claimed_at=None,
            last_error="put back in the queue after it was given up (outbox retry)",
        )
    )
    return result.rowcount or 0
