"""SQLite statements run on the event loop's thread and never hand the loop to others."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
from functools import partial
from pathlib import Path

import aiosqlite
from sqlalchemy import select, text

from bot.storage.db import Database
from bot.storage.inline_sqlite import InlineConnection
from bot.storage.migrate import upgrade
from bot.storage.models import Participant


async def _driver_connection(database: Database):  # type: ignore[no-untyped-def]
    connection = await database.engine.connect()
    raw = await connection.get_raw_connection()
    return connection, raw.driver_connection


async def test_statements_run_on_the_loops_own_thread(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/inline.db")
    try:
        connection, driver = await _driver_connection(database)
        threads: list[int] = []
        driver._conn.set_trace_callback(lambda _statement: threads.append(threading.get_ident()))
        await connection.execute(text("CREATE TABLE numbers (n INTEGER)"))
        await connection.execute(text("INSERT INTO numbers VALUES (1), (2)"))
        total = (await connection.execute(text("SELECT sum(n) FROM numbers"))).scalar_one()
        await connection.close()
    finally:
        await database.close()
    assert total == 3
    assert threads and set(threads) == {threading.get_ident()}


async def test_a_transaction_does_not_let_other_tasks_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/inline.db"
    upgrade(url)
    database = Database(url)
    ran_between: list[str] = []
    try:
        async with database.transaction() as session:
            await session.execute(select(Participant))  # connection checked out
            asyncio.get_running_loop().call_soon(ran_between.append, "other task")
            session.add(Participant(channel="terminal", channel_user_id="a", role="resident"))
            await session.flush()
            await session.execute(select(Participant).where(Participant.channel_user_id == "a"))
            during = list(ran_between)
        await asyncio.sleep(0)
    finally:
        await database.close()
    assert during == []
    assert ran_between == ["other task"]


async def test_errors_are_sqlites_own(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/inline.db")
    try:
        async with database.engine.connect() as connection:
            try:
                await connection.execute(text("SELECT * FROM nowhere"))
            except Exception as error:
                raised = error
            else:
                raised = None
    finally:
        await database.close()
    assert raised is not None
    assert "no such table: nowhere" in str(raised)
    assert type(raised).__name__ == "OperationalError"


def test_the_aiosqlite_internals_it_relies_on_are_there(tmp_path: Path) -> None:
    """InlineConnection overrides `Connection._execute` and reads `_running`,
    `_connection` and `_thread`: a new aiosqlite that renames them must fail here, not in
    production (pyproject.toml bounds aiosqlite for the same reason)."""
    execute = aiosqlite.Connection._execute
    assert inspect.iscoroutinefunction(execute)
    assert list(inspect.signature(execute).parameters)[:2] == ["self", "fn"]
    assert "iter_chunk_size" in inspect.signature(aiosqlite.Connection.__init__).parameters
    connection = InlineConnection(partial(sqlite3.connect, str(tmp_path / "x.db")), 64)
    for name in ("_running", "_connection", "_thread"):
        assert hasattr(connection, name), name
    assert connection._connection is None
