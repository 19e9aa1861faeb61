"""The outbox's reads and writes: queue a message, claim due ones, record what happened.

Every message that is not a direct reply is queued here first, in the caller's
transaction, so it exists exactly when what caused it was committed (a finished flow, a
broadcast, an RSVP). The dispatcher (`bot.delivery.dispatcher`) does the sending.

Content, one of:

* `{"type": "text", "text": "..."}`: already rendered; `text` may also be a map of
  language code to text, and the person gets theirs (or the default language's);
* `{"type": "flow", "flow": "checkin", "variables": {...}}`: the flow is started at
  send time, in the person's language at that moment;
* `{"type": "resume", "conversation_id": 12, "idle_since": "..."}`: a gentle reminder
  and the question the person stopped at (see `bot.delivery.reminders`);
* `{"type": "question", "conversation_id": 12}`: the conversation's current question
  again, if it still waits for an answer (a direct reply that could not be delivered).

`dedupe_key` is unique: queueing the same follow-up or reminder twice is a no-op
(`followup:<conversation>:<flow>`, `reminder24:<activity>:<participant>`, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.quiet_hours import QuietHours, hold
from bot.storage.db import insert_for
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.outbox import (
    CANCELLED,
    CAPPED_KINDS,
    KINDS,
    QUEUED,
    SENDING,
    SENT,
    STATUSES,
    UNREACHABLE,
)

log = logging.getLogger(__name__)

TABLE = OutboxMessage.__table__
CONTENT_TYPES = ("text", "flow", "resume", "question")
INSERT_CHUNK = 500

# ---- queueing ------------------------------------------------------------------------


@dataclass
class Item:
    """One message to queue; see the module docstring for `content`."""

    participant_id: int
    kind: str
    content: dict[str, Any]
    due_at: datetime | None = None
    urgent: bool = False
    dedupe_key: str | None = None
    batch_id: str | None = None
    channel: str | None = None
    expires_at: datetime | None = None


def text(message: str | dict[str, str]) -> dict[str, Any]:
    """Content of an already rendered message (or one text a language)."""
    return {"type": "text", "text": message}


def flow(flow_id: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Content that starts `flow_id` with the person when it is sent."""
    return {"type": "flow", "flow": flow_id, "variables": dict(variables or {})}


def question(conversation_id: int) -> dict[str, Any]:
    """Content that asks a conversation's current question again, if it still waits."""
    return {"type": "question", "conversation_id": conversation_id}


def _check(item: Item) -> None:
    if item.kind not in KINDS:
        raise ValueError(f"unknown outbox kind {item.kind!r}; one of {', '.join(KINDS)}")
    kind = item.content.get("type")
    if kind not in CONTENT_TYPES:
        raise ValueError(f"unknown outbox content type {kind!r}; one of {CONTENT_TYPES}")
    if kind == "text" and not item.content.get("text"):
        raise ValueError("a text message needs a text")
    if kind == "flow" and not item.content.get("flow"):
        raise ValueError("a flow message needs a flow id")
    if kind in ("resume", "question") and not item.content.get("conversation_id"):
        raise ValueError(f"a {kind} message needs a conversation id")
    for moment in (item.due_at, item.expires_at):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("due_at and expires_at must be timezone-aware")


async def enqueue(
    session: AsyncSession,
    participant_id: int,
    kind: str,
    content: dict[str, Any],
    *,
    due_at: datetime | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
    batch_id: str | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
    quiet: QuietHours | None = None,
    now: datetime | None = None,
) -> int | None:
    """Queue one message in the caller's transaction; its id, or None if already queued.

    With `quiet`, a non-urgent message due inside quiet hours gets the end of the window
    as its due time at once (the dispatcher holds it anyway; this only shows it sooner).
    """
    item = Item(
        participant_id, kind, content, due_at, urgent, dedupe_key, batch_id, channel, expires_at
    )
    ids = await _enqueue(session, [item], quiet, now)
    return ids[0] if ids else None


async def enqueue_many(
    session: AsyncSession,
    items: Iterable[Item],
    *,
    quiet: QuietHours | None = None,
    now: datetime | None = None,
) -> int:
    """Queue many messages (a broadcast) in the caller's transaction; how many were new."""
    return len(await _enqueue(session, list(items), quiet, now))


async def _enqueue(
    session: AsyncSession, items: list[Item], quiet: QuietHours | None, now: datetime | None
) -> list[int]:
    if not items:
        return []
    now = now or utcnow()
    for item in items:
        _check(item)
    missing = {item.participant_id for item in items if item.channel is None}
    channels: dict[int, str] = {}
    if missing:
        rows = await session.execute(
            select(Participant.id, Participant.channel).where(Participant.id.in_(missing))
        )
        channels = {pid: channel for pid, channel in rows.all()}
        unknown = missing - channels.keys()
        if unknown:
            raise ValueError(f"no participant with id {sorted(unknown)[0]}")
    values = [
        {
            "participant_id": item.participant_id,
            "channel": item.channel or channels[item.participant_id],
            "kind": item.kind,
            "content": item.content,
            "urgent": item.urgent,
            "due_at": hold(quiet, item.due_at or now, item.urgent),
            "expires_at": item.expires_at,
            "status": QUEUED,
            "attempts": 0,
            "batch_id": item.batch_id,
            "dedupe_key": item.dedupe_key,
            "created_at": now,
        }
        for item in items
    ]
    ids: list[int] = []
    for start in range(0, len(values), INSERT_CHUNK):
        chunk = values[start : start + INSERT_CHUNK]
        statement = (
            insert_for(session, TABLE)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(TABLE.c.id)
        )
        ids.extend((await session.execute(statement)).scalars().all())
    if ids:
        _wake_after_commit(session)
    return ids


async def cancel(
    session: AsyncSession,
    reason: str,
    *,
    participant_id: int | None = None,
    batch_id: str | None = None,
    dedupe_prefix: str | None = None,
    ids: Sequence[int] | None = None,
) -> int:
    """Cancel queued (not yet sending) messages; e.g. an activity called off. How many."""
    conditions = [TABLE.c.status == QUEUED]
    if participant_id is not None:
        conditions.append(TABLE.c.participant_id == participant_id)
    if batch_id is not None:
        conditions.append(TABLE.c.batch_id == batch_id)
    if dedupe_prefix is not None:
        conditions.append(TABLE.c.dedupe_key.startswith(dedupe_prefix, autoescape=True))
    if ids is not None:
        conditions.append(TABLE.c.id.in_(list(ids)))
    if len(conditions) == 1:
        raise ValueError("say what to cancel")
    result = await session.execute(
        update(TABLE).where(*conditions).values(status=CANCELLED, last_error=reason)
    )
    return result.rowcount or 0


# ---- waking the dispatcher of this process ------------------------------------------------

_listeners: list[Callable[[], None]] = []


def on_enqueue(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after a transaction that queued messages commits; returns undo."""
    _listeners.append(callback)

    def remove() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return remove


def _wake_after_commit(session: AsyncSession) -> None:
    if not _listeners:
        return
    sync = session.sync_session
    sync.info["outbox_pending"] = True
    if not sync.info.get("outbox_listening"):
        sync.info["outbox_listening"] = True
        event.listen(sync, "after_commit", _committed)
        event.listen(sync, "after_rollback", _rolled_back)


def _committed(sync: Any) -> None:
    if not sync.info.pop("outbox_pending", False):
        return
    for callback in list(_listeners):
        try:
            callback()
        except Exception:
            log.exception("waking the dispatcher failed")


def _rolled_back(sync: Any) -> None:
    sync.info.pop("outbox_pending", None)


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


def week_ago(now: datetime) -> datetime:
    return now - timedelta(days=7)
