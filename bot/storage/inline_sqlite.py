"""SQLite statements run on the event loop's own thread, not on aiosqlite's worker.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a thread of its
own and back: a queue, a wake-up of the loop and a switch of the GIL each time, about
20 trips a conversation turn. SQLite's work for one of our statements is a few dozen
microseconds, far less than a trip, so the bot runs them where it is.

What this asks of the code: a transaction on SQLite never waits for anything but the
database (no HTTP, no sleep) between its first write and its commit. Awaiting a
statement no longer lets other tasks run, so two transactions of this process can
never interleave, and SQLite's lock is only ever held by one of them. A lock held by
another process (the command line) is waited for by SQLite's busy timeout, holding
the loop for that time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, with its statements run at once on the caller's thread.

    Opening and closing still go through aiosqlite's worker thread, as SQLAlchemy's
    adapter expects; the connection may be used from either thread, never from both at
    once.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def connector(path: str) -> Callable[[], InlineConnection]:
    """An `async_creator` for SQLAlchemy: a new inline connection to `path`."""

    def create() -> InlineConnection:
        connection = InlineConnection(
            partial(sqlite3.connect, path, check_same_thread=False), iter_chunk_size=64
        )
        connection._thread.daemon = True
        return connection

    return create
