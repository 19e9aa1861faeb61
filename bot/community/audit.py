"""The audit log: every worker action, wherever it was taken, with who, what and when.

A community function that changes something on a worker's behalf (creates or cancels an
activity, sends an invitation or a poll, reviews a proposal, writes the news, invites or
revokes a worker) records it here, once, whether the chat, the dashboard or the command
line called it. Who is the worker's pseudonym and the name they go by, never their
platform id; coordinators read the log in the dashboard. When a worker is erased their
entries keep the action but lose the name and the pseudonym.

Example, in a community function:

    await audit.record(session, actor, audit.ACTIVITY_CANCELLED, f"activity {activity.id}")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.extensions import Extensions
from bot.conversation.parts import Parts
from bot.i18n.translator import Translator
from bot.privacy import pseudonyms
from bot.settings import Settings
from bot.storage.models import Participant
from bot.storage.models.community import AuditEntry

# Where an action was taken.
CHAT, DASHBOARD, CLI = "chat", "dashboard", "cli"
# The pseudonym of the operator (the command line, or an `--admin` dashboard link).
OPERATOR = "operator"
# What is left of an erased worker.
ERASED = "erased"

# The actions. A new one gets a label below.
ACTIVITY_CREATED = "activity.created"
ACTIVITY_CHANGED = "activity.changed"
ACTIVITY_CANCELLED = "activity.cancelled"
INVITATION_SENT = "invitation.sent"
INVITATION_STOPPED = "invitation.stopped"
POLL_SENT = "poll.sent"
POLL_STOPPED = "poll.stopped"
POLL_CREATED = "poll.created"
PROPOSAL_APPROVED = "proposal.approved"
PROPOSAL_ASKED = "proposal.asked"
PROPOSAL_DECLINED = "proposal.declined"
NEWS_WRITTEN = "news.written"
WORKER_INVITED = "worker.invited"
WORKER_GRANTED = "worker.granted"
WORKER_JOINED = "worker.joined"
WORKER_REVOKED = "worker.revoked"

LABELS: dict[str, Callable[[Translator], str]] = {
    ACTIVITY_CREATED: lambda t: t.gettext("Created an activity"),
    ACTIVITY_CHANGED: lambda t: t.gettext("Changed an activity"),
    ACTIVITY_CANCELLED: lambda t: t.gettext("Cancelled an activity"),
    INVITATION_SENT: lambda t: t.gettext("Sent an invitation"),
    INVITATION_STOPPED: lambda t: t.gettext("Stopped an invitation"),
    POLL_SENT: lambda t: t.gettext("Sent a poll"),
    POLL_STOPPED: lambda t: t.gettext("Stopped a poll"),
    POLL_CREATED: lambda t: t.gettext("Wrote a poll"),
    PROPOSAL_APPROVED: lambda t: t.gettext("Approved a proposal"),
    PROPOSAL_ASKED: lambda t: t.gettext("Asked about a proposal"),
    PROPOSAL_DECLINED: lambda t: t.gettext("Declined a proposal"),
    NEWS_WRITTEN: lambda t: t.gettext("Wrote the neighbourhood news"),
    WORKER_INVITED: lambda t: t.gettext("Invited a worker"),
    WORKER_GRANTED: lambda t: t.gettext("Made someone a worker"),
    WORKER_JOINED: lambda t: t.gettext("Became a worker with an invite code"),
    WORKER_REVOKED: lambda t: t.gettext("Revoked a worker"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a worker (their row's id, pseudonym and name) or the operator."""

    participant_id: int | None
    pseudonym: str
    name: str | None
    via: str

    @classmethod
    def worker(cls, settings: Settings, participant: Participant, via: str) -> Actor:
        return cls(
            participant.id,
            pseudonyms.of(settings.secret, participant),
            participant.worker_name,
            via,
        )

    @classmethod
    def operator(cls, via: str = CLI) -> Actor:
        return cls(None, OPERATOR, None, via)


async def actor_of(
    session: AsyncSession, settings: Settings, participant_id: int | None, via: str
) -> Actor:
    """The actor behind a dashboard session or a command: a worker's row, else the operator."""
    participant = None if participant_id is None else await session.get(Participant, participant_id)
    if participant is None:
        return Actor.operator(via)
    return Actor.worker(settings, participant, via)


def label(t: Translator, action: str) -> str:
    """The action in the reader's language (an unknown key as itself)."""
    found = LABELS.get(action)
    return found(t) if found else action


async def record(session: AsyncSession, actor: Actor, action: str, subject: str = "") -> None:
    """Write one entry, in the caller's transaction: it lands exactly when the action does."""
    session.add(
        AuditEntry(
            actor_id=actor.participant_id,
            actor_pseudonym=actor.pseudonym,
            actor_name=actor.name,
            via=actor.via,
            action=action,
            subject=subject[:200],
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession, limit: int = 100, before: int | None = None
) -> list[AuditEntry]:
    """The newest entries first; `before` an id to page back from."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list((await session.scalars(query)).all())


async def forget_actor(session: AsyncSession, parts: Parts, participant_id: int) -> None:
    """Before a worker is erased: their entries keep the action, not who they were."""
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id == participant_id)
        .values(actor_id=None, actor_name=None, actor_pseudonym=ERASED)
    )


def register(extensions: Extensions) -> None:
    extensions.before_erase(forget_actor)
