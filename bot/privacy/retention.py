"""Retention: answers older than `BUURTBOT_RETENTION_DAYS` are anonymised.

An old answer loses everything that ties it to a person: `participant_id` and
`conversation_id` become NULL and the typed input (`raw`) goes. What remains is the
flow, the step, the normalised value, the language, the neighbourhood and the time, so
reports can still count it ("12 people in Kerkelanden chose green"), but nobody can say
whose it was. Free-text values (text and media steps, and steps of flows that no longer
exist) are removed too: words people typed can name them, so they are not anonymous.

Conversations whose last activity is older than the cutoff are deleted (their state
repeats the answers); a conversation still going keeps its recent answers, and the old
ones are taken out of its state as well. The purge is idempotent; the periodic job runs
it daily (`purge(app)`), and it finishes with a WAL checkpoint so that SQLite's log
keeps no copy of what was removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, false, null, or_, select, update

from bot.privacy.erasure import vacuum_after_erase
from bot.reports.labels import FREE_TEXT_KINDS
from bot.storage.models import Answer, Conversation, utcnow

if TYPE_CHECKING:
    from bot.app import App
    from bot.conversation.library import FlowLibrary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    cutoff: datetime
    answers: int
    free_texts: int
    conversations: int


def free_text_steps(library: FlowLibrary) -> dict[str, list[str]]:
    """Flow id -> the keys of its steps whose answers are typed words."""
    return {
        flow.id: [step.key for step in flow.steps if step.kind in FREE_TEXT_KINDS]
        for flow in library.flows.values()
    }


async def purge(app: App, now: datetime | None = None) -> Purged:
    """Anonymise answers older than the retention period; returns what it changed."""
    cutoff = (now or utcnow()) - timedelta(days=app.settings.retention_days)
    steps = free_text_steps(app.library)
    free = or_(
        *[
            and_(Answer.flow_id == f, Answer.step_key.in_(keys))
            for f, keys in steps.items()
            if keys
        ],
        Answer.flow_id.not_in(list(steps)) if steps else false(),
    )
    old_conversations = select(Conversation.id).where(Conversation.updated_at < cutoff)
    linked = or_(
        Answer.participant_id.is_not(None),
        Answer.conversation_id.is_not(None),
        Answer.raw.is_not(None),
    )
    due = and_(
        linked, or_(Answer.created_at < cutoff, Answer.conversation_id.in_(old_conversations))
    )
    detached = {"participant_id": None, "conversation_id": None, "raw": None}
    async with app.database.transaction() as session:
        # Conversations that stay (still going) but hold old answers in their state.
        survivors = (
            await session.execute(
                select(Answer.conversation_id, Answer.step_key).where(
                    due,
                    Answer.conversation_id.is_not(None),
                    Answer.conversation_id.not_in(old_conversations),
                )
            )
        ).all()
        texts = await session.execute(
            update(Answer)
            .where(due, free)
            .values(**detached, value=null())
            .execution_options(synchronize_session=False)
        )
        others = await session.execute(
            update(Answer)
            .where(due)
            .values(**detached)
            .execution_options(synchronize_session=False)
        )
        forget: dict[int, set[str]] = {}
        for conversation_id, step_key in survivors:
            forget.setdefault(conversation_id, set()).add(step_key)
        for conversation_id, keys in forget.items():
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                continue
            state = dict(conversation.state)
            state["values"] = {
                k: v for k, v in dict(state.get("values") or {}).items() if k not in keys
            }
            conversation.state = state
        gone = await session.execute(
            delete(Conversation)
            .where(Conversation.updated_at < cutoff)
            .execution_options(synchronize_session=False)
        )
    result = Purged(cutoff, texts.rowcount + others.rowcount, texts.rowcount, gone.rowcount)
    if result.answers or result.conversations:
        await vacuum_after_erase(app.database)
    log.info(
        "retention: %d answers anonymised (%d free texts removed), %d conversations deleted",
        result.answers,
        result.free_texts,
        result.conversations,
    )
    return result
