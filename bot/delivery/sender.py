"""What a channel offers the outbox: one attempt to deliver one reply to one person.

The dispatcher owns pacing, retries and dead letters; a sender only says how the attempt
went, in the platform's terms translated to these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.conversation.turns import Reply


class Status(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later (rate limit, timeout, server error)
    UNREACHABLE = "unreachable"  # blocked the bot, left the platform: never again
    FAILED = "failed"  # our mistake (bad request): do not retry


@dataclass(frozen=True)
class Delivery:
    status: Status
    retry_after: float | None = None
    error: str = ""


class Sender(Protocol):
    """A channel's delivery side. `rate` is the most messages a second it should send."""

    channel: str
    rate: float
    per_chat_interval: float

    async def deliver(self, user_id: str, reply: Reply) -> Delivery: ...
