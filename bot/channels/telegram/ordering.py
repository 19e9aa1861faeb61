"""Updates of different people at once, updates of one person in order.

PTB's `concurrent_updates` runs every update in its own task, so two quick messages of
one person could overtake each other (the second handled while the first waits for the
database). One global sequence would be ordered but slow: everybody would wait for
everybody. This update processor does both: updates of different chats run concurrently,
updates of one chat run one after the other, in the order Telegram sent them.

How the order is kept: the intake (`intake`) creates one task per update in the order
Telegram sent them, and each task reaches `do_process_update` without suspending first
(PTB's semaphore is FIFO and set high enough never to make an update wait). There,
before its first `await`, an update takes its place in its chat's chain: it waits for
the event of the update before it and sets its own when it is done. So the chain order
is the order Telegram sent them, whatever happens later.

An update that crashes still sets its event (PTB's error handler logs the crash), so one
bad update never blocks the person's next one.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

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
        self._tails: dict[int, asyncio.Event] = {}

    @property
    def busy_chats(self) -> int:
        """Chats with an update being handled or waiting."""
        return len(self._tails)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        previous = self._tails.get(key)
        mine = asyncio.Event()
        self._tails[key] = mine
        started = False
        try:
            if previous is not None:
                await previous.wait()
            started = True
            await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()
            mine.set()
            if self._tails.get(key) is mine:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: every chain ends with its last update."""
