"""What the runner knows of a channel: the `Channel` protocol.

A channel module (`bot.channels.telegram`, `bot.channels.signal`) offers
`start(parts, **options) -> Channel`: connected and listening when it returns. The
runner starts every configured channel, hands their senders to the outbox's dispatcher,
reports their health in the heartbeat, and stops them in reverse order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.channels.parts import ChannelParts
from bot.delivery.sender import Sender
from bot.health import Health


class Channel(Protocol):
    """A started channel."""

    name: str
    sender: Sender

    async def start(self) -> None:
        """Connect and listen (the module's `start` calls it)."""

    async def stop(self) -> None:
        """Stop listening; let the turns already begun finish."""

    def health(self) -> Health:
        """Whether it works, in a few words for the operator (`buurtbot health`)."""

    @property
    def ended(self) -> asyncio.Future[str] | None:
        """A future that gets the reason once the channel cannot go on; None if it can't end."""


#: A channel module's `start`.
Start = Callable[..., Awaitable[Channel]]

__all__ = ["Channel", "ChannelParts", "Start"]
