"""Database engines and sessions, for SQLite and PostgreSQL alike.

The runtime uses async sessions (aiosqlite, psycopg 3); Alembic and the command line
use the same URL through a sync engine. SQLite files are opened through
`inline_sqlite`: their statements run on the event loop's thread, not aiosqlite's.
Long reads (counting results, exports) run in worker threads on a sync engine of their
own (`Database.in_thread`), so that every chat goes on being answered meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot import keyfile
from bot.storage import errors, inline_sqlite

T = TypeVar("T")

READERS = 4
"""Connections for reading in worker threads, at most (`Database.in_thread`)."""


def async_url(url: str) -> str:
    """The async driver for a URL: aiosqlite for SQLite, psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL; None for other databases and SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return parsed.database
    return None


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file (0700) and the file itself (0600), so the
    default `data/` works on a fresh clone and only the bot's user can read it (SQLite
    gives its journal files the database file's mode)."""
    if (path := sqlite_file(url)) is not None:
        keyfile.private_folder(Path(path).parent, narrow=False)
        keyfile.private_file(Path(path))


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_for(session: AsyncSession | str, table: Any) -> Any:
    """An INSERT of the session's (or named) dialect, for `ON CONFLICT` clauses."""
    name = session if isinstance(session, str) else dialect_of(session)
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Erased means gone: deleted rows are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# Every engine is made with this: an error's text never holds the values of the row.
HIDE_PARAMETERS = {"hide_parameters": True}


def configure(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


class Database:
    """One async engine and its session factory."""

    def __init__(self, url: str, **engine_args: Any):
        errors.install_log_scrubber()
        ensure_sqlite_folder(url)
        engine_args.setdefault("hide_parameters", True)
        self.url = url
        if (path := sqlite_file(url)) is not None:
            engine_args.setdefault("async_creator", inline_sqlite.connector(path))
        self.engine: AsyncEngine = create_async_engine(async_url(url), **engine_args)
        configure(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers: Engine | None = None
        self._threads: set[asyncio.Future[Any]] = set()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        if not self.is_sqlite:
            async with self.sessions() as session, session.begin():
                yield session
            return
        # SQLite: closed in place. SQLAlchemy closes a session it leaves in a task of its
        # own, shielded, so that a cancellation cannot cut the close short. On SQLite the
        # close never lets the loop run anything else (`inline_sqlite`), so nothing can
        # cut it; the task, though, let the loop run other work in the middle of a turn
        # (its slot still held) and took a turn that much longer: about 0.6 ms of CPU an
        # update at 20 people in `benchmarks/telegram_throughput.py`.
        session = self.sessions()
        try:
            async with session.begin():
                yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one transaction, as `engine.begin()`; closed in place on SQLite,
        like `transaction`'s session."""
        if not self.is_sqlite:
            async with self.engine.begin() as connection:
                yield connection
            return
        connection = await self.engine.connect().start()
        try:
            async with connection.begin():
                yield connection
        finally:
            await connection.close()

    async def in_thread(self, work: Callable[[Connection], T]) -> T:
        """`work` on a connection of its own, in a worker thread: for a long read that
        would otherwise hold up the event loop, and with it every chat (on SQLite the
        loop runs the statements itself; on PostgreSQL it would run the Python that
        counts or writes the file). At most `READERS` at a time; more wait their turn.

        Reads see what was committed when their statements ran, as any connection
        does. A page closed or a task cancelled leaves the thread running: `close`
        waits for it before the connections go."""
        if self._readers is None:
            self._readers = create_engine(
                sync_url(self.url), pool_size=READERS, max_overflow=0, hide_parameters=True
            )
            configure(self._readers)
        readers = self._readers

        def run() -> T:
            with readers.connect() as connection:
                return work(connection)

        thread = asyncio.ensure_future(asyncio.to_thread(run))
        self._threads.add(thread)
        thread.add_done_callback(self._threads.discard)
        return await asyncio.shield(thread)

    async def close(self) -> None:
        if self._threads:
            await asyncio.gather(*self._threads, return_exceptions=True)
        if self._readers is not None:
            self._readers.dispose()
            self._readers = None
        await self.engine.dispose()
