"""Telegram's part of keeping one person's updates in order: the chat an update is of.

PTB's `concurrent_updates` runs every update in its own task, so two quick messages of
one person could overtake each other (the second handled while the first waits for the
database). `ChatOrderedProcessor` is PTB's update processor around the channel base's
`InOrder` (`bot.channels.turns`): updates of different chats run concurrently, one
chat's one after the other, in the order Telegram sent them.

How the order is kept: the intake (`intake`) creates one task per update in the order
Telegram sent them, and each task reaches `do_process_update` without suspending first
(PTB's semaphore is FIFO and set high enough never to make an update wait); there
`InOrder.run` takes the update's place in its chat's chain before its first `await`.
An update that crashes still lets the chat's next one go (PTB's error handler logs it).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.channels.turns import InOrder

# Far above anything the bot can work on at once: the channel bounds the real work (the
# database) itself, and a full PTB semaphore would be the only place order could slip.
MAX_CONCURRENT_UPDATES = 8192


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (None: not ordered, e.g. unknown kinds)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within one chat (see the module docstring)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self.order = InOrder()

    @property
    def busy_chats(self) -> int:
        """Chats with an update being handled or waiting."""
        return self.order.busy

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.order.run(chat_key(update), coroutine)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: every chain ends with its last update."""
