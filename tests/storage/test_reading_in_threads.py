"""Long reads run in worker threads on connections of their own: the event loop, and
with it every chat, goes on meanwhile; closing the database waits for them."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import Connection, func, select

from bot.storage.db import READERS, Database
from bot.storage.models import Participant

pytestmark = pytest.mark.postgres


def _people(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(Participant)).scalar_one()


async def test_a_read_in_a_thread_sees_what_the_loop_committed(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Participant(channel="terminal", channel_user_id="r-1", language="nl"))
    assert await database.in_thread(_people) == 1
    threads: list[int] = []
    await database.in_thread(lambda c: threads.append(threading.get_ident()))
    assert threads and threads[0] != threading.get_ident()


async def test_the_loop_goes_on_while_a_read_takes_long(database: Database) -> None:
    gate = threading.Event()
    ticks = 0

    def slow(connection: Connection) -> int:
        gate.wait(10)
        return _people(connection)

    reading = asyncio.ensure_future(database.in_thread(slow))
    while ticks < 5:  # the loop runs other work while the read waits in its thread
        await asyncio.sleep(0.01)
        ticks += 1
    assert not reading.done()
    async with database.transaction() as session:  # and the bot can still write
        session.add(Participant(channel="terminal", channel_user_id="r-2", language="nl"))
    gate.set()
    assert await reading in (0, 1)


async def test_more_reads_than_connections_wait_their_turn(database: Database) -> None:
    gate = threading.Event()
    running, most = 0, 0
    lock = threading.Lock()

    def held(connection: Connection) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(10)
        found = _people(connection)
        with lock:
            running -= 1
        return found

    reads = [asyncio.ensure_future(database.in_thread(held)) for _ in range(READERS + 2)]
    await asyncio.sleep(0.3)
    gate.set()
    assert await asyncio.gather(*reads) == [0] * (READERS + 2)
    assert most == READERS


async def test_closing_waits_for_a_read_whose_page_was_closed(database: Database) -> None:
    gate = threading.Event()
    ended = threading.Event()

    def slow(connection: Connection) -> int:
        gate.wait(10)
        found = _people(connection)
        ended.set()
        return found

    reading = asyncio.ensure_future(database.in_thread(slow))
    await asyncio.sleep(0.05)
    reading.cancel()  # the page is closed; the thread goes on, shielded
    asyncio.get_running_loop().call_later(0.2, gate.set)
    await database.close()
    assert ended.is_set() and not database._threads and database._readers is None
    with pytest.raises(asyncio.CancelledError):
        await reading
