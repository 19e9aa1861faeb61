"""Retention: what ties a person to what they said or did goes after a while.

The while is `BUURTBOT_RETENTION_DAYS` (365 by default); `cutoff` is now minus that.
Every rule below keeps what the neighbourhood still needs (counts, activities) and lets
go of what says *who*. The purge is idempotent; the scheduler runs it every hour
(`purge(database, library, days=...)`).

* **Answers** older than the cutoff are anonymised, not deleted. An old answer loses
  everything that ties it to a person: `participant_id` and `conversation_id` become
  NULL and the typed input (`raw`) goes. What remains is the flow, the step, the
  normalised value, the language, the neighbourhood and the time, so reports can still
  count it ("12 people in Kerkelanden chose green"), but nobody can say whose it was.
  Free-text values (text and media steps, and steps of flows that no longer exist) are
  removed too: words people typed can name them, so they are not anonymous.
* **Conversations** whose last activity is older than the cutoff are deleted (their
  state repeats the answers); a conversation still going keeps its recent answers, and
  the old ones are taken out of its state as well.
* **Proposals** (a young person's idea, in their own words, and who proposed it) that
  have not changed since before the cutoff are deleted: an idea nobody touched for that
  long was decided on, or let go, long ago. Their review notes go with them (the
  workers' questions and the young person's answers), and so do the sent review
  notices about them, whatever their age: they quote the idea, and on SQLite a new
  proposal may get a deleted one's id, whose old notice would then block the new one's
  (same dedupe key). An activity made from a proposal stays: it is the workers'
  content now (the co-organiser link goes only when that person is erased).
* **Invitations and RSVPs** of activities that took place before the cutoff (by
  `starts_at`; an activity without a start by when it was made) are deleted: who was
  invited to what and who said they would go is a record of someone's life, and an
  activity long past needs neither (no one can be invited to, or answer for, a past
  activity). The activities themselves stay, for the workers' overview; choosing "people
  who came before" as an audience only looks back as far as the retention period.
* **Outbox messages** in a final status (sent, failed, dead, unreachable, cancelled)
  whose last change (the latest of `created_at`, `due_at`, `claimed_at`, `sent_at`) is
  before the cutoff are deleted: each holds who got which text. A message that is still
  queued or being sent is never touched; the weekly limit on invitations only counts
  the last week, so it loses nothing.

* **Receipts** of handled updates (`bot.storage.receipts`) are dropped after
  `RECEIPTS_KEPT` (a week), whatever the retention period: they only serve to
  recognise an update a platform delivers again, which happens within a day.

When anything personal was changed it finishes with a WAL checkpoint, so that SQLite's log keeps
no copy of what was removed (`secure_delete` already overwrote the rows in the file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, delete, false, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.labels import FREE_TEXT_KINDS
from bot.privacy.erasure import vacuum_after_erase
from bot.storage import answer_order, receipts
from bot.storage.models import Answer, Conversation, OutboxMessage, utcnow
from bot.storage.models.community import Activity, Invitation, Proposal, ProposalNote, Rsvp
from bot.storage.models.outbox import FINAL_STATUSES

if TYPE_CHECKING:
    from bot.flows.library import FlowLibrary
    from bot.storage.db import Database

log = logging.getLogger(__name__)


CHUNK = 500
RECEIPTS_KEPT = timedelta(days=7)
# The dedupe key of a review notice about a proposal: `proposal:<id>:<reason>:<worker>`
# (`bot.community.proposals.send_for_review`).
PROPOSAL_KEY = "proposal:"


@dataclass(frozen=True)
class Purged:
    """What one purge changed: answers anonymised, rows of each kind deleted."""

    cutoff: datetime
    answers: int
    free_texts: int
    conversations: int
    proposals: int = 0
    proposal_notes: int = 0
    invitations: int = 0
    rsvps: int = 0
    outbox: int = 0
    receipts: int = 0

    @property
    def changed(self) -> int:
        """Rows anonymised or deleted, all kinds together."""
        return (
            self.answers
            + self.conversations
            + self.proposals
            + self.proposal_notes
            + self.invitations
            + self.rsvps
            + self.outbox
            + self.receipts
        )


def free_text_steps(library: FlowLibrary) -> dict[str, list[str]]:
    """Flow id -> the keys of its steps whose answers are typed words."""
    return {
        flow.id: [step.answer_as for step in flow.steps if step.kind in FREE_TEXT_KINDS]
        for flow in library.flows.values()
    }


async def purge(
    database: Database, library: FlowLibrary, *, days: int, now: datetime | None = None
) -> Purged:
    """Apply the retention rules (see the module docstring); returns what it changed.

    `days` is `BUURTBOT_RETENTION_DAYS`: what is older goes.
    """
    cutoff = (now or utcnow()) - timedelta(days=days)
    steps = free_text_steps(library)
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
    detached = {
        "participant_id": None,
        "conversation_id": None,
        "raw": None,
        # An anonymised answer is a person of its own (see `bot.storage.answer_order`).
        "next_in_step_at": None,
        "next_in_flow_at": None,
    }
    async with database.transaction() as session:
        people = (
            (
                await session.execute(
                    select(Answer.participant_id)
                    .where(due, Answer.participant_id.is_not(None))
                    .distinct()
                )
            )
            .scalars()
            .all()
        )
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
        # What they still have is ordered again (a bound parameter an id: in chunks).
        for start in range(0, len(people), 500):
            await session.execute(answer_order.of_people(people[start : start + 500]))
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
        proposals, notes, notices = await _purge_proposals(session, cutoff)
        invitations, rsvps = await _purge_invitations(session, cutoff)
        messages = await _purge_outbox(session, cutoff)
        old_receipts = await receipts.forget_before(session, (now or utcnow()) - RECEIPTS_KEPT)
    result = Purged(
        cutoff,
        answers=texts.rowcount + others.rowcount,
        free_texts=texts.rowcount,
        conversations=gone.rowcount,
        proposals=proposals,
        proposal_notes=notes,
        invitations=invitations,
        rsvps=rsvps,
        outbox=notices + messages,
        receipts=old_receipts,
    )
    if result.changed - result.receipts:
        # Receipts hold only hashes: their going alone needs no checkpoint, which would
        # otherwise run (and on a busy bot, wait) every hour.
        await vacuum_after_erase(database)
    log.info(
        "retention: %d answers anonymised (%d free texts removed); deleted %d conversations, "
        "%d proposals (%d notes), %d invitations, %d RSVPs, %d outbox messages, %d receipts",
        result.answers,
        result.free_texts,
        result.conversations,
        result.proposals,
        result.proposal_notes,
        result.invitations,
        result.rsvps,
        result.outbox,
        result.receipts,
    )
    return result


async def _purge_proposals(session: AsyncSession, cutoff: datetime) -> tuple[int, int, int]:
    """Delete proposals unchanged since before `cutoff`, their notes and the sent notices
    about them; returns (proposals, notes, outbox rows) deleted."""
    # Locked first (PostgreSQL), so a note that arrives meanwhile waits for this purge
    # instead of being added to a proposal that is about to go.
    ids = list(
        (
            await session.execute(
                select(Proposal.id)
                .where(Proposal.updated_at < cutoff)
                .order_by(Proposal.id)
                .with_for_update()
            )
        ).scalars()
    )
    if not ids:
        return 0, 0, 0
    proposals = notes = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        # Explicitly, not by the foreign key's cascade: the count is reported, and it
        # does not depend on SQLite's `foreign_keys` pragma.
        notes += (
            await session.execute(
                delete(ProposalNote)
                .where(ProposalNote.proposal_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        ).rowcount
        proposals += (
            await session.execute(
                delete(Proposal)
                .where(Proposal.id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        ).rowcount
    gone = {str(pid) for pid in ids}
    notices = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.dedupe_key).where(
                OutboxMessage.status.in_(FINAL_STATUSES),
                OutboxMessage.dedupe_key.startswith(PROPOSAL_KEY, autoescape=True),
            )
        )
    ).all()
    about = [
        row_id for row_id, key in notices if key.removeprefix(PROPOSAL_KEY).split(":", 1)[0] in gone
    ]
    deleted = 0
    for start in range(0, len(about), CHUNK):
        deleted += (
            await session.execute(
                delete(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(about[start : start + CHUNK]),
                    OutboxMessage.status.in_(FINAL_STATUSES),
                )
                .execution_options(synchronize_session=False)
            )
        ).rowcount
    return proposals, notes, deleted


async def _purge_invitations(session: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """Delete invitations and RSVPs of activities that took place before `cutoff`."""
    past = (
        select(Activity.id)
        .where(func.coalesce(Activity.starts_at, Activity.created_at) < cutoff)
        .scalar_subquery()
    )
    invitations = await session.execute(
        delete(Invitation)
        .where(Invitation.activity_id.in_(past))
        .execution_options(synchronize_session=False)
    )
    rsvps = await session.execute(
        delete(Rsvp).where(Rsvp.activity_id.in_(past)).execution_options(synchronize_session=False)
    )
    return invitations.rowcount, rsvps.rowcount


def finished_before(cutoff: datetime) -> ColumnElement[bool]:
    """Outbox rows in a final status whose every moment lies before `cutoff`."""
    return and_(
        OutboxMessage.status.in_(FINAL_STATUSES),
        OutboxMessage.created_at < cutoff,
        OutboxMessage.due_at < cutoff,
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < cutoff),
        or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at < cutoff),
    )


async def _purge_outbox(session: AsyncSession, cutoff: datetime) -> int:
    """Delete messages that were dealt with (sent, failed, ...) before `cutoff`."""
    result = await session.execute(
        delete(OutboxMessage)
        .where(finished_before(cutoff))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
