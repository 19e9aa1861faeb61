"""Polls a worker wrote in the dashboard: a question and its options, with translations.

A poll is run as a flow (`poll-<id>`, built by `bot.flows.polls`); its answers are stored
like any flow's. A poll does not change once written, so a flow built from it in one
process stays right in every other. The worker who wrote it only loses the link when
they are erased (ON DELETE SET NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class Poll(Base):
    """`question` and `thanks` are `{"_": original, "tr": ...}`; `options` a list of them."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    thanks: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The language the original (`"_"`) is written in: the deployment's default then.
    language: Mapped[str] = mapped_column(String(16))
    neighbourhoods: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())
