"""The audit log: every worker action, wherever it was taken, with who, what and when.

A community function that changes something on a worker's behalf (creates or cancels an
activity, sends an invitation or a poll, reviews a proposal, writes the news, invites or
revokes a worker) records it here, once, whether the chat, the dashboard or the command
line called it. Who is the worker's pseudonym and the name they go by, never their
platform id; coordinators read the log in the dashboard. When a worker is erased their
entries keep the action but lose the name and the pseudonym.

A subject is written in one plain form, with ids and neighbourhood keys (`activity 12`,
`flow checkin: 40 people, batch 3f2a, in centrum`), by the builders below; `describe`
reads it back in the reader's language, so the builders and the reading stay together.

Example, in a community function:

    await audit.record(session, actor, audit.ACTIVITY_CANCELLED, audit.activity(activity.id))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
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


# ---- subjects ---------------------------------------------------------------------------


def activity(activity_id: int) -> str:
    return f"activity {activity_id}"


def proposal(proposal_id: int) -> str:
    return f"proposal {proposal_id}"


def flow(flow_id: str) -> str:
    return f"flow {flow_id}"


def batch(batch_id: str) -> str:
    return f"batch {batch_id}"


def places(neighbourhoods: Iterable[str]) -> str:
    """Neighbourhood keys; `*` is the whole town."""
    return ", ".join(neighbourhoods) or "*"


def sent(what: str, people: int, batch_id: str, neighbourhoods: Iterable[str]) -> str:
    """`what` (an `activity` or a `flow`) went to `people` in one batch."""
    return f"{what}: {people} people, batch {batch_id}, in {places(neighbourhoods)}"


def stopped(what: str, people: int) -> str:
    """`what` (an `activity` or a `batch`): the messages of `people` were stopped."""
    return f"{what}: {people} stopped"


_WHAT = re.compile(r"(activity|proposal|flow|batch) (\S+)")
_SENT = re.compile(rf"({_WHAT.pattern}): (\d+) people, batch (\S+)(?:, in (.+))?")
_STOPPED = re.compile(rf"({_WHAT.pattern}): (\d+) stopped")
# A neighbourhood key as a word of its own (keys are lowercase words joined by "-"), and
# `*` (every neighbourhood) as one.
_KEYS = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
_EVERYWHERE = re.compile(r"(?<!\S)\*(?!\S)")


def describe(
    subject: str,
    t: Translator,
    names: Mapping[str, str],
    flow_name: Callable[[str], str] = lambda flow_id: flow_id,
) -> str:
    """A subject as a coordinator reads it, in their language: activities, proposals,
    conversations and batches in words, neighbourhoods by their names, `*` as the whole
    town. A pseudonym (`P-7BKCN47PLW`) stays as it is."""

    def where(keys: str) -> str:
        named = _KEYS.sub(lambda found: names.get(found[0], found[0]), keys)
        return _EVERYWHERE.sub(t.gettext("the whole town"), named)

    def what(kind: str, key: str) -> str:
        if kind == "activity":
            return t.gettext("activity {id}").format(id=key)
        if kind == "proposal":
            return t.gettext("proposal {id}").format(id=key)
        if kind == "flow":
            return t.gettext("conversation “{name}”").format(name=flow_name(key))
        return t.gettext("batch {id}").format(id=key)

    if subject == ERASED or subject.startswith(f"{ERASED}: "):  # a worker since erased
        erased = t.gettext("Erased person")
        return erased if subject == ERASED else f"{erased}: {where(subject[len(ERASED) + 2 :])}"
    if found := _WHAT.fullmatch(subject):
        return what(found[1], found[2])
    if found := _SENT.fullmatch(subject):
        n = int(found[4])
        return t.ngettext(
            "{what}: {n} person in {places} (batch {batch})",
            "{what}: {n} people in {places} (batch {batch})",
            n,
        ).format(what=what(found[2], found[3]), n=n, places=where(found[6] or "*"), batch=found[5])
    if found := _STOPPED.fullmatch(subject):
        n = int(found[4])
        return t.ngettext("{what}: {n} message stopped", "{what}: {n} messages stopped", n).format(
            what=what(found[2], found[3]), n=n
        )
    return where(subject)


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
