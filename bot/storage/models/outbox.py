"""The delivery outbox: every message that is not a direct reply, one row a message.

A row is queued with a due time; the dispatcher (`bot.delivery.dispatcher`) claims due
rows, sends them through the channel's sender and records how it went. The schedule's
truth is this table, so a restart picks up where the last run stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow

QUEUED, SENDING, SENT, FAILED, DEAD, UNREACHABLE, CANCELLED = (
    "queued",
    "sending",
    "sent",
    "failed",
    "dead",
    "unreachable",
    "cancelled",
)
STATUSES = (QUEUED, SENDING, SENT, FAILED, DEAD, UNREACHABLE, CANCELLED)
FINAL_STATUSES = (SENT, FAILED, DEAD, UNREACHABLE, CANCELLED)

KINDS = (
    "invitation",
    "reminder",
    "followup",
    "feedback",
    "notice",
    "broadcast",
    "nudge",
    "reply",
)
CAPPED_KINDS = ("broadcast", "invitation", "feedback")
"""Kinds that count towards a person's weekly limit (`BUURTBOT_WEEKLY_BROADCAST_LIMIT`);
feedback after an activity asks as much of a person as an invitation."""
REPLY_KINDS = ("reply",)
"""Kinds that answer what a person wrote (a direct reply sent again): no consent needed,
as for the reply itself."""


class OutboxMessage(Base):
    """One message to one person, due at `due_at`.

    `content` is `{"type": "text", "text": ...}` (already rendered; `text` may also be a
    `{language: text}` map), `{"type": "flow", "flow": id, "variables": {...}}` (the
    flow is started at send time, in the person's language),
    `{"type": "resume", "conversation_id": id}` (a gentle reminder and the question the
    person stopped at) or `{"type": "question", "conversation_id": id}` (the current
    question again: a direct reply that could not be delivered). `expires_at` is when
    it is no use any more (a reminder of an activity that has begun): a row still
    unsent then is cancelled. `dedupe_key` makes the same follow-up or reminder
    impossible to queue twice; `conversation_id` is set once a flow row started its
    conversation, so a retry re-sends that question instead of starting a second
    conversation.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_participant_kind", "participant_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
