"""Claiming due rows for the dispatcher, and recording what happened to them.

A dispatcher claims rows (status `sending`, with its owner name), sends them, and writes
the outcomes in one transaction; a row whose dispatcher died is requeued after a while.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage, Participant
from bot.storage.models.outbox import (
    CANCELLED,
    CAPPED_KINDS,
    QUEUED,
    SENDING,
    SENT,
)

log = logging.getLogger(__name__)

TABLE = OutboxMessage.__table__


# ---- claiming ----------------------------------------------------------------------------


@dataclass
class Claimed:
    """A row the dispatcher holds (status `sending`) while it sends it."""

    id: int
    participant_id: int
    channel: str
    kind: str
    content: dict[str, Any]
    urgent: bool
    attempts: int
    conversation_id: int | None
    batch_id: str | None
    due_at: datetime
    expires_at: datetime | None
    created_at: datetime


@dataclass
class Recipient:
    id: int
    channel_user_id: str
    language: str | None
    consented_at: datetime | None
    opted_out_at: datetime | None
    unreachable_at: datetime | None


def _due(now: datetime, channels: Sequence[str], urgent_only: bool):
    conditions = [
        TABLE.c.status == QUEUED,
        TABLE.c.due_at <= now,
        TABLE.c.channel.in_(list(channels)),
    ]
    if urgent_only:
        conditions.append(TABLE.c.urgent.is_(True))
    return conditions


async def anything_due(
    session: AsyncSession, now: datetime, channels: Sequence[str], urgent_only: bool = False
) -> bool:
    """A read-only look before claiming: an idle tick takes no write lock."""
    if not channels:
        return False
    found = await session.execute(
        select(TABLE.c.id).where(*_due(now, channels, urgent_only)).limit(1)
    )
    return found.first() is not None


async def hold_quiet(session: AsyncSession, until: datetime) -> int:
    """During quiet hours: move every queued non-urgent row due before `until` to `until`."""
    waiting = select(TABLE.c.id).where(
        TABLE.c.status == QUEUED, TABLE.c.urgent.is_(False), TABLE.c.due_at < until
    )
    if (await session.execute(waiting.limit(1))).first() is None:
        return 0
    result = await session.execute(
        update(TABLE)
        .where(TABLE.c.status == QUEUED, TABLE.c.urgent.is_(False), TABLE.c.due_at < until)
        .values(due_at=until)
    )
    return result.rowcount or 0


async def claim(
    session: AsyncSession,
    owner: str,
    now: datetime,
    limit: int,
    channels: Sequence[str],
    urgent_only: bool = False,
) -> list[Claimed]:
    """Mark up to `limit` due rows `sending` for `owner` and return them, oldest first.

    One UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING: on
    PostgreSQL two dispatchers skip each other's rows instead of waiting or taking them;
    on SQLite (no row locks; the statement is atomic) one dispatcher runs.
    """
    if limit <= 0 or not channels:
        return []
    due = (
        select(TABLE.c.id)
        .where(*_due(now, channels, urgent_only))
        .order_by(TABLE.c.due_at, TABLE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(TABLE)
        .where(TABLE.c.id.in_(due.scalar_subquery()), TABLE.c.status == QUEUED)
        .values(status=SENDING, claimed_by=owner, claimed_at=now)
        .returning(
            TABLE.c.id,
            TABLE.c.participant_id,
            TABLE.c.channel,
            TABLE.c.kind,
            TABLE.c.content,
            TABLE.c.urgent,
            TABLE.c.attempts,
            TABLE.c.conversation_id,
            TABLE.c.batch_id,
            TABLE.c.due_at,
            TABLE.c.expires_at,
            TABLE.c.created_at,
        )
    )
    rows = [Claimed(*row) for row in (await session.execute(statement)).all()]
    rows.sort(key=lambda row: (row.due_at, row.id))
    return rows


async def recipients(session: AsyncSession, participant_ids: Iterable[int]) -> dict[int, Recipient]:
    ids = list(set(participant_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Participant.id,
            Participant.channel_user_id,
            Participant.language,
            Participant.consented_at,
            Participant.opted_out_at,
            Participant.unreachable_at,
        ).where(Participant.id.in_(ids))
    )
    return {row[0]: Recipient(*row) for row in rows.all()}


async def capped_counts(
    session: AsyncSession,
    participant_ids: Iterable[int],
    since: datetime,
    exclude: Iterable[int] = (),
) -> dict[int, int]:
    """Broadcasts and invitations per person sent since `since` or being sent right now."""
    ids = list(set(participant_ids))
    if not ids:
        return {}
    statement = (
        select(TABLE.c.participant_id, func.count())
        .where(
            TABLE.c.participant_id.in_(ids),
            TABLE.c.kind.in_(CAPPED_KINDS),
            or_(
                and_(TABLE.c.status == SENT, TABLE.c.sent_at >= since),
                TABLE.c.status == SENDING,
            ),
        )
        .group_by(TABLE.c.participant_id)
    )
    excluded = list(exclude)
    if excluded:
        statement = statement.where(TABLE.c.id.not_in(excluded))
    return {pid: count for pid, count in (await session.execute(statement)).all()}


async def requeue_stale(session: AsyncSession, claimed_before: datetime | None = None) -> int:
    """Put `sending` rows back in the queue: all of them, or those claimed before a time.

    Each may have reached the person before the process holding it died: this is where
    the at-most-the-rows-in-flight duplicates come from.
    """
    conditions = [TABLE.c.status == SENDING]
    if claimed_before is not None:
        conditions.append(TABLE.c.claimed_at < claimed_before)
    result = await session.execute(
        update(TABLE)
        .where(*conditions)
        .values(
            status=QUEUED,
            claimed_by=None,
            claimed_at=None,
            last_error="re-queued: the process sending it stopped before it recorded the result",
        )
    )
    return result.rowcount or 0


# ---- recording results -------------------------------------------------------------------


@dataclass
class Results:
    """What one dispatcher learnt since its last write, written in one transaction."""

    sent: list[tuple[int, datetime]] = field(default_factory=list)
    retry: list[tuple[int, datetime, int, str]] = field(default_factory=list)  # due, attempts
    release: list[tuple[int, datetime, str]] = field(default_factory=list)  # no attempt used
    final: list[tuple[int, str, int, str]] = field(default_factory=list)  # status, attempts
    conversations: list[tuple[int, int]] = field(default_factory=list)  # row, conversation
    unreachable: list[tuple[int, datetime]] = field(default_factory=list)  # participant

    def __len__(self) -> int:
        return (
            len(self.sent)
            + len(self.retry)
            + len(self.release)
            + len(self.final)
            + len(self.unreachable)
            + len(self.conversations)
        )


async def record(session: AsyncSession, owner: str, results: Results) -> None:
    """Write a batch of outcomes; each row only if this owner still holds it."""
    connection = await session.connection()
    mine = and_(
        TABLE.c.id == bindparam("row_id"),
        TABLE.c.status == SENDING,
        TABLE.c.claimed_by == owner,
    )
    if results.conversations:
        await connection.execute(
            update(TABLE)
            .where(TABLE.c.id == bindparam("row_id"))
            .values(conversation_id=bindparam("conversation")),
            [{"row_id": row, "conversation": conv} for row, conv in results.conversations],
        )
    if results.sent:
        # Sent is sent, even if the lease ran out and the row went back to the queue.
        await connection.execute(
            update(TABLE)
            .where(
                TABLE.c.id == bindparam("row_id"),
                or_(TABLE.c.status == SENDING, TABLE.c.status == QUEUED),
            )
            .values(
                status=SENT,
                sent_at=bindparam("at"),
                attempts=TABLE.c.attempts + 1,
                claimed_by=None,
                last_error=None,
            ),
            [{"row_id": row, "at": at} for row, at in results.sent],
        )
    if results.retry:
        await connection.execute(
            update(TABLE)
            .where(mine)
            .values(
                status=QUEUED,
                due_at=bindparam("due"),
                attempts=bindparam("tries"),
                last_error=bindparam("error"),
                claimed_by=None,
                claimed_at=None,
            ),
            [
                {"row_id": row, "due": due, "tries": tries, "error": error}
                for row, due, tries, error in results.retry
            ],
        )
    if results.release:
        await connection.execute(
            update(TABLE)
            .where(mine)
            .values(
                status=QUEUED,
                due_at=bindparam("due"),
                last_error=bindparam("error"),
                claimed_by=None,
                claimed_at=None,
            ),
            [{"row_id": row, "due": due, "error": error} for row, due, error in results.release],
        )
    if results.final:
        await connection.execute(
            update(TABLE)
            .where(mine)
            .values(
                status=bindparam("new_status"),
                attempts=bindparam("tries"),
                last_error=bindparam("error"),
                claimed_by=None,
            ),
            [
                {"row_id": row, "new_status": status, "tries": tries, "error": error}
                for row, status, tries, error in results.final
            ],
        )
    if results.unreachable:
        participants = Participant.__table__
        await connection.execute(
            update(participants)
            .where(participants.c.id == bindparam("pid"), participants.c.unreachable_at.is_(None))
            .values(unreachable_at=bindparam("at")),
            [{"pid": pid, "at": at} for pid, at in results.unreachable],
        )
        await connection.execute(
            update(TABLE)
            .where(TABLE.c.participant_id.in_([pid for pid, _ in results.unreachable]))
            .where(TABLE.c.status == QUEUED)
            .values(status=CANCELLED, last_error="the person cannot be reached (blocked the bot)")
        )
