"""Community work: worker roles, activities, invitations, RSVPs and youth proposals.

Everything about a person goes with them: rows that belong to a participant are deleted
with them (ON DELETE CASCADE); rows a worker made (an activity, a note) only lose the
link to the worker (ON DELETE SET NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow

# Activity statuses: a draft (an approved proposal) is not shown to residents until a
# worker invites people to it; a planned activity is; a cancelled one is not.
DRAFT, PLANNED, CANCELLED = "draft", "planned", "cancelled"
# RSVP answers.
GOING, MAYBE, NOT_GOING = "going", "maybe", "no"
# Proposal statuses.
OPEN, ASKING, APPROVED, DECLINED = "open", "asking", "approved", "declined"


class WorkerInvite(Base):
    """A single-use code that makes whoever sends `/worker CODE` a worker.

    Only a keyed hash of the code is stored, so a copy of the database gives no codes.
    """

    __tablename__ = "worker_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    neighbourhoods: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    # The name the new worker goes by, given by the coordinator; moved onto the worker's
    # row when the code is used (and blanked here, so it goes when they are erased).
    worker_name: Mapped[str | None] = mapped_column(String(80))


class WorkerNeighbourhood(Base):
    """A neighbourhood a worker works in. A worker with none works in the whole town."""

    __tablename__ = "worker_neighbourhoods"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    neighbourhood: Mapped[str] = mapped_column(String(64), primary_key=True)


class Activity(Base):
    """Something to do in one or more neighbourhoods.

    `title` and `description` are worker-written texts: `{"_": original, "tr": ...}`.
    `age_groups`, `interests` and `languages` describe who it is for (empty: everyone).
    `capacity` None means no limit.
    """

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    neighbourhoods: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=PLANNED)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())


class ActivityOrganiser(Base):
    """Who organises an activity: the worker, and a young person whose idea it was."""

    __tablename__ = "activity_organisers"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), default="organiser")


class Invitation(Base):
    """A person invited to an activity: each person once per activity."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("activity_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    invited_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rsvp(Base):
    """A person's answer to an invitation; `waiting` when going but the activity was full."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("activity_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(String(8))
    waiting: Mapped[bool] = mapped_column(default=False)
    waiting_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proposal(Base):
    """A young person's idea for an activity, from the `propose` flow.

    `details` holds the flow's answers; the proposal goes when its proposer is erased.
    """

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    neighbourhood: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalNote(Base):
    """One step in a proposal's review: a question, the answer, a decision and its reason."""

    __tablename__ = "proposal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NeighbourhoodNews(Base):
    """What workers tell a neighbourhood's residents in the check-in: `{"_": ..., "tr": ...}`."""

    __tablename__ = "neighbourhood_news"

    neighbourhood: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One worker action, in the dashboard, the chat or the command line: who, what, when.

    Who is the worker's pseudonym and the name they go by, not their platform id; when a
    worker is erased, both are blanked (`bot.community.audit`), the action stays.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    actor_pseudonym: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(80))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200), default="")
