"""Updates claimed from the inbox shared by several processes, for any channel.

Several `buurtbot run` on PostgreSQL (`Presence.shared`): the process that receives an
update (by webhook, or the one reader of a long poll or an event stream) only keeps it
in the inbox. Every process claims what it has room for (`inbox.claim`: the oldest
waiting update of each person, never two of one person at once, leased), handles it
and forgets it once handled. `Claims` is that loop, the same for Telegram and Signal:
it looks every `CLAIM_EVERY` seconds, and at once when told an update came
(`poke`); it renews its leases with every heartbeat, and a process that dies leaves
its claims to the others (`bot.storage.processes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.processes import Presence

log = logging.getLogger(__name__)

CLAIM_EVERY = 0.5  # seconds: how often a process looks for updates others kept
LEASE = 60.0  # seconds a claim holds without renewal (renewed every heartbeat)

Handle = Callable[[inbox.Claimed], None]
"""Starts handling one claimed update; `Claims.done(row_id)` when it is handled."""


class Claims:
    """Claims a channel's updates from the shared inbox and hands each to `handle`."""

    def __init__(
        self,
        database: Database,
        presence: Presence,
        channel: str,
        handle: Handle,
        *,
        capacity: int = 16,
        lease: float = LEASE,
    ):
        self.database = database
        self.presence = presence
        self.channel = channel
        self.handle = handle
        self.capacity = capacity
        self.lease = lease
        self._loop: asyncio.Task[None] | None = None
        self._now = asyncio.Event()
        self._done: list[int] = []  # handled, to be forgotten with the next claim
        self._held: set[int] = set()  # claimed and being handled
        self._open = False

    def start(self) -> None:
        """Claim now and from now on, and renew the leases with every heartbeat."""
        self._open = True
        self.presence.on_beat(self._renew)
        self._loop = asyncio.create_task(self._run(), name=f"{self.channel}-claims")

    def poke(self) -> None:
        """An update was kept: claim at once instead of at the next look."""
        self._now.set()

    def done(self, row_id: int) -> None:
        """The claimed update `row_id` is handled (or failed for good): it leaves the inbox."""
        self._held.discard(row_id)
        self._done.append(row_id)
        self._now.set()

    async def stop(self) -> None:
        """Claim no more (the caller finishes what it handles, then `forget`)."""
        self._open = False
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def forget(self) -> None:
        """Forget what was handled; what was not waits for another process."""
        done, self._done = self._done, []
        if not done:
            return
        try:
            await self._claim(0, done)
        except Exception:
            log.warning("%s: handled updates stay in the inbox for now", self.channel)

    # ---- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLAIM_EVERY):
                    await self._now.wait()
            self._now.clear()
            await self._round()

    async def _round(self) -> None:
        """Forget what was handled and claim what there is room for, until none is left."""
        while self._open:
            room = self.capacity - len(self._held)
            done, self._done = self._done, []
            try:
                rows = await self._claim(room, done)
            except asyncio.CancelledError:
                # Stopped in the middle: `forget` forgets them (again is harmless).
                self._done.extend(done)
                raise
            except Exception as error:
                self._done.extend(done)
                log.warning("%s: could not claim updates (%s); again soon", self.channel, error)
                return
            for row in rows:
                self._held.add(row[0])
                try:
                    self.handle(row)
                except Exception:
                    log.exception("%s: update %s could not be read; dropped", self.channel, row[1])
                    self.done(row[0])
            if room <= 0 or len(rows) < room:
                return

    async def _claim(self, room: int, done: list[int]) -> list[inbox.Claimed]:
        assert self.presence.id is not None
        return await inbox.claim(
            self.database, self.channel, self.presence.id, room, self.lease, done
        )

    async def _renew(self, connection: Any) -> None:
        assert self.presence.id is not None
        await inbox.renew(connection, self.presence.id, self._held, self.lease)
