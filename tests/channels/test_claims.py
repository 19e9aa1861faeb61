"""Claims on the shared inbox: what was handled leaves it, even when a stop cuts a claim.

Real PostgreSQL (claims are how several processes share it); on SQLite they are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.channels.claims import Claims
from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.processes import Presence

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    upgrade(database_url)
    built = Database(database_url)
    if built.is_sqlite:
        await built.close()
        pytest.skip("claims are how several processes share PostgreSQL")
    try:
        yield built
    finally:
        await built.close()


class CutShort(Claims):
    """Claims whose first forgetting hangs until the stop cancels it, as a slow
    transaction does when SIGTERM comes in the middle of it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cut = asyncio.Event()

    async def _claim(self, room: int, done: list[int]) -> list[inbox.Claimed]:
        if done and not self.cut.is_set():
            self.cut.set()
            await asyncio.Event().wait()  # never: the stop cancels it
        return await super()._claim(room, done)


async def test_what_was_handled_leaves_the_inbox_when_the_stop_cuts_a_claim(
    database: Database,
) -> None:
    await inbox.exchange(database, "signal", [(1, "hallo", "ada")])
    presence = Presence(database, every=3600)
    await presence.start()
    handled = asyncio.Event()

    def handle(row: inbox.Claimed) -> None:
        claims.done(row[0])  # handled at once
        handled.set()

    claims = CutShort(database, presence, "signal", handle)
    claims.start()
    try:
        await asyncio.wait_for(handled.wait(), 10)
        await asyncio.wait_for(claims.cut.wait(), 10)  # forgetting it hangs now
        await claims.stop()
        await claims.forget()
        assert await inbox.waiting(database, "signal") == []
    finally:
        await claims.stop()
        await presence.stop()
