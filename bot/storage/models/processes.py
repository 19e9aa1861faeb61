"""The running `buurtbot run` processes of a deployment, and its shared send rate.

Several processes on one PostgreSQL database share the work (docs/deployment.md). Each
registers itself here at start, writes a heartbeat with what it leads and how its parts
are, and marks itself stopped on a clean stop; `buurtbot health` and the dashboard read
it. Whether a process is alive is told by PostgreSQL itself (the advisory lock its
connection holds, `bot.storage.processes`), not by trusting the heartbeat alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, utcnow


class RunningProcess(Base):
    """One `buurtbot run` process, from its start to its stop (kept a day after)."""

    __tablename__ = "processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    # The roles it leads ("telegram-updates", "jobs", ...) and its parts' health.
    leads: Mapped[list[str]] = mapped_column(JSON, default=list)
    parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SendRate(Base):
    """A channel's next free sending slot, shared by every process (a token bucket)."""

    __tablename__ = "send_rates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(default=utcnow)
