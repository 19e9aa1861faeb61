"""Queueing: a message into the outbox, in the caller's transaction; cancelling queued ones.

See `bot.outbox` for what a message's content may be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.quiet_hours import QuietHours, hold
from bot.storage.db import insert_for
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.outbox import (
    CANCELLED,
    KINDS,
    QUEUED,
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


async def stop(
    session: AsyncSession, *, batch_id: str | None = None, dedupe_prefix: str | None = None
) -> list[int]:
    """Stop queued messages before they go out (a worker's "stop"): they show as
    stopped, and their dedupe key goes, so a new round can queue the same people again.

    The people's ids, one a stopped message. Stopped is `cancelled` with its reason.
    """
    conditions = [TABLE.c.status == QUEUED]
    if batch_id is not None:
        conditions.append(TABLE.c.batch_id == batch_id)
    if dedupe_prefix is not None:
        conditions.append(TABLE.c.dedupe_key.startswith(dedupe_prefix, autoescape=True))
    if len(conditions) == 1:
        raise ValueError("say what to stop")
    found = (
        await session.execute(select(TABLE.c.id, TABLE.c.participant_id).where(*conditions))
    ).all()
    if found:
        await session.execute(
            update(TABLE)
            .where(TABLE.c.id.in_([row_id for row_id, _ in found]), TABLE.c.status == QUEUED)
            .values(status=CANCELLED, last_error="stopped before it went out", dedupe_key=None)
        )
    return [person for _, person in found]


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
