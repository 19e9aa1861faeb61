"""Two `buurtbot run` on one PostgreSQL database, with Signal: one reader, shared handling.

signal-cli streams its events to one reader, the leader of `signal-events`; the reader
keeps what it reads in the inbox and every process claims from there. Real processes,
started as an operator does, against the fake signal-cli daemon over real HTTP.
Skipped without BUURTBOT_TEST_DATABASE_URL. Slow on a loaded machine: generous,
bounded waits.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.storage.db import sync_url
from bot.storage.migrate import upgrade
from tests import processes
from tests.channels.signal.conftest import option
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

WAIT = 120.0  # seconds for any one step on a loaded machine
PEOPLE = 24  # more than one process claims at once (16), so both must handle

# (what the person sends, given the question they were asked; the next question).
Step = tuple[Callable[[str], str], str]
STEPS: list[Step] = [
    (lambda _q: "Hallo", "Türkçe"),
    (lambda q: option(q, "English"), "Is this OK for you?"),
    (lambda q: option(q, "Yes, I agree"), "Which neighbourhood"),
    (lambda q: option(q, "Kerkelanden"), "How old are you?"),
    (lambda q: option(q, "18 to 27"), "What do you care about?"),
    (
        lambda q: f"{option(q, 'Green spaces and gardens')}, {option(q, 'Sport and play')}",
        "What is good about your neighbourhood?",
    ),
]


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    async with FakeSignalDaemon(keepalive=0.5) as fake:
        yield fake


class Walker:
    """One person's walk: each step once the question before it has come."""

    def __init__(self, person: FakeSignalPerson):
        self.person = person
        self.question = ""
        self.seen = 0

    async def step(self, n: int) -> None:
        send, expected = STEPS[n]
        self.person.send_text(send(self.question))
        # A question may come twice (asked again after a crash): the first one will do.
        async with asyncio.timeout(WAIT):
            while True:
                new = self.person.inbox[self.seen :]
                found = next((m.message for m in new if expected in m.message), None)
                if found is not None:
                    self.seen = len(self.person.inbox)
                    self.question = found
                    return
                await asyncio.sleep(0.05)


class Deployment:
    def __init__(self, daemon: FakeSignalDaemon, url: str, tmp_path: Path, count: int):
        self.daemon = daemon
        self.url = url
        self.tmp_path = tmp_path
        self.logs = [tmp_path / f"process-{n}.log" for n in range(count)]
        self.running: list[asyncio.subprocess.Process] = []
        self.engine = create_engine(sync_url(url))

    async def start(self) -> None:
        upgrade(self.url)
        for n, log in enumerate(self.logs):
            folder = self.tmp_path / f"p{n}"
            folder.mkdir()
            env = processes.environment(
                self.url,
                folder,
                signal_url=self.daemon.url,
                signal_number=self.daemon.account,
                signal_rate="500",
            )
            self.running.append(await processes.run(env, self.tmp_path, log=log))

    def log(self, n: int) -> str:
        return self.logs[n].read_text(errors="replace") if self.logs[n].exists() else ""

    async def until(self, condition: Callable[[], Any], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                for n, process in enumerate(self.running):
                    if process.returncode is not None and process.returncode != -signal.SIGKILL:
                        raise AssertionError(f"process {n} ended:\n{self.log(n)}")
                await asyncio.sleep(0.05)

    def query(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql)).all())

    def one(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    async def stop(self) -> None:
        for process in self.running:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.engine.dispose()


async def test_one_reader_all_handle_and_a_killed_reader_is_replaced_losing_nothing(
    daemon: FakeSignalDaemon, database_url: str, tmp_path: Path
) -> None:
    deployment = Deployment(daemon, database_url, tmp_path, 2)
    await deployment.start()
    try:
        # Both registered; one of the two reads the stream, the other stands by.
        pids = ", ".join(str(p.pid) for p in deployment.running)
        await deployment.until(
            lambda: deployment.one(f"SELECT count(*) FROM processes WHERE pid IN ({pids})") == 2
        )
        await deployment.until(
            lambda: (
                sum("now leads signal-events" in deployment.log(n) for n in (0, 1)) == 1
                and daemon.streams_open == 1
            )
        )
        reader = next(n for n in (0, 1) if "now leads signal-events" in deployment.log(n))
        other = 1 - reader
        ids = {
            n: deployment.one(f"SELECT id FROM processes WHERE pid = {p.pid}")
            for n, p in enumerate(deployment.running)
        }
        walkers = [Walker(daemon.person(f"S{n}")) for n in range(PEOPLE)]

        # Replies take a while (longer than keeping everybody's message takes, even on
        # a busy machine), so more people wait than one process claims at once: the
        # process that does not read claims and handles too.
        daemon.send_delay = 4.0
        claimers: set[int] = set()

        async def watch() -> None:
            while True:
                claimers.update(
                    row[0]
                    for row in deployment.query(
                        "SELECT DISTINCT claimed_by FROM inbox "
                        "WHERE claimed_by IS NOT NULL AND lease_until IS NOT NULL"
                    )
                )
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        try:
            for n in range(3):
                await asyncio.gather(*(walker.step(n) for walker in walkers))
        finally:
            watcher.cancel()
        assert claimers == set(ids.values()), (claimers, ids)
        await deployment.until(lambda: deployment.one("SELECT count(*) FROM inbox") == 0)

        # Everybody answers the next question; the reader keeps all of it, and is killed
        # while it handles some (replies hang): nothing is on its way from the stream then.
        daemon.send_delay = 5.0
        for walker in walkers:
            walker.person.send_text(STEPS[3][0](walker.question))
        await deployment.until(
            lambda: (
                deployment.one("SELECT count(*) FROM inbox") == PEOPLE
                and deployment.one(f"SELECT count(*) FROM inbox WHERE claimed_by = {ids[reader]}")
            )
        )
        deployment.running[reader].send_signal(signal.SIGKILL)
        await deployment.running[reader].wait()
        daemon.send_delay = 0.0

        # The other process takes the stream over and handles the dead one's claims.
        await deployment.until(lambda: "now leads signal-events" in deployment.log(other))
        await daemon.wait_connections(2, timeout=WAIT)

        async def rest(walker: Walker) -> None:
            expected = STEPS[3][1]
            async with asyncio.timeout(WAIT):
                while not any(expected in m.message for m in walker.person.inbox[walker.seen :]):
                    await asyncio.sleep(0.05)
            walker.question = next(
                m.message for m in reversed(walker.person.inbox) if expected in m.message
            )
            walker.seen = len(walker.person.inbox)
            for n in range(4, len(STEPS)):
                await walker.step(n)

        await asyncio.gather(*(rest(walker) for walker in walkers))

        # None lost (everybody is at the end), none handled twice (one receipt each).
        assert (
            deployment.query(
                "SELECT key, count(*) FROM inbound_receipts GROUP BY key HAVING count(*) > 1"
            )
            == []
        )
        assert deployment.one("SELECT count(*) FROM inbound_receipts") == PEOPLE * len(STEPS)
        await deployment.until(lambda: deployment.one("SELECT count(*) FROM inbox") == 0)
        answers = deployment.query(
            "SELECT participant_id, count(*) FROM answers GROUP BY participant_id"
        )
        assert len(answers) == PEOPLE
        assert {count for _id, count in answers} == {3}, answers
    finally:
        await deployment.stop()
    survivor = deployment.log(other)
    assert "Traceback" not in survivor, survivor
    assert "updates of a stopped process are handled by others" in survivor, survivor
    assert daemon.violations == []
