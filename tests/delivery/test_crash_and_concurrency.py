"""Exactly once as far as the platform allows: kill -9 mid-broadcast, two dispatchers at once."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot import outbox
from bot.app import App
from bot.conversation.turns import Reply
from bot.delivery.clock import SYSTEM
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.sender import Delivery, Status
from bot.storage.db import sync_url
from tests.conftest import ROOT
from tests.delivery.conftest import add_people, rows

WORKER = Path(__file__).with_name("crash_worker.py")


async def broadcast(app: App, people, batch: str) -> None:
    async with app.database.transaction() as session:
        await outbox.enqueue_many(
            session,
            [
                outbox.Item(p.id, "broadcast", outbox.text("Barbecue zaterdag!"), batch_id=batch)
                for p in people
            ],
        )


def worker(url: str, journal: Path, tmp_path: Path, rate: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BUURTBOT_DATABASE_URL": url,
        "BUURTBOT_QUIET_HOURS": "",
        "BUURTBOT_SECRET_KEY": "test-secret",
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_CONVERSATIONS_DIR": str(ROOT / "conversations"),
        "BUURTBOT_WEEKLY_BROADCAST_LIMIT": "10",
    }
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(journal), str(rate)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def journal_lines(journal: Path) -> list[str]:
    if not journal.exists():
        return []
    return journal.read_text().split("\n")[:-1]


def count_by_status(url: str) -> dict[str, int]:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        found = connection.execute(text("SELECT status, count(*) FROM outbox GROUP BY status"))
        result = {status: count for status, count in found}
    engine.dispose()
    return result


def sending_users(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT p.channel_user_id FROM outbox o JOIN participants p"
                " ON p.id = o.participant_id WHERE o.status = 'sending'"
            )
        )
        result = {user for (user,) in found}
    engine.dispose()
    return result


def wait_until(condition, timeout: float, what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"worker exited early: {process.stdout.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


async def test_kill_9_mid_broadcast_then_restart_sends_the_rest_once(
    app: App, tmp_path: Path
) -> None:
    url = app.settings.database_url
    if not app.database.is_sqlite:
        pytest.skip("the crash test runs the single-dispatcher SQLite set-up")
    total = 400
    people = await add_people(app, total)
    await broadcast(app, people, "bbq")
    await app.close()
    journal = tmp_path / "journal.txt"

    first = worker(url, journal, tmp_path, rate=200)
    try:
        wait_until(lambda: len(journal_lines(journal)) >= 120, 60, "sends", first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = count_by_status(url)
    in_flight = sending_users(url)
    sent_before = collections.Counter(journal_lines(journal))
    assert at_kill.get("sending", 0) == len(in_flight) > 0, at_kill
    assert at_kill.get("queued", 0) > 0, "killed in the middle, not at the end"

    second = worker(url, journal, tmp_path, rate=200)
    try:
        wait_until(
            lambda: count_by_status(url) == {"sent": total}, 60, "the rest of the broadcast", second
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        if second.poll() is None:
            second.kill()

    delivered = collections.Counter(journal_lines(journal))
    everyone = {f"u{n}" for n in range(total)}
    assert set(delivered) == everyone, "nobody skipped"
    duplicates = {user for user, times in delivered.items() if times > 1}
    assert all(times <= 2 for times in delivered.values())
    # Only rows that were `sending` at the kill may repeat, and only if they had gone out.
    assert duplicates <= in_flight & set(sent_before)
    assert sum(delivered.values()) - total <= at_kill["sending"]
    print(f"in flight at the kill: {len(in_flight)}, repeated: {len(duplicates)}")


class SlowSender:
    """Takes a little real time per message, so two dispatchers really overlap."""

    channel = "test"
    rate = 300.0
    per_chat_interval = 0.0

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def for_dispatcher(self, name: str):
        parent = self

        class Named:
            channel = parent.channel
            rate = parent.rate
            per_chat_interval = parent.per_chat_interval

            async def deliver(self, user_id: str, reply: Reply) -> Delivery:
                await asyncio.sleep(0.005)
                parent.log.append((name, user_id))
                return Delivery(Status.SENT)

        return Named()


async def test_two_dispatchers_never_send_the_same_row(make_app) -> None:
    one, two = make_app(weekly_broadcast_limit=10), make_app(weekly_broadcast_limit=10)
    total = 300
    people = await add_people(one, total)
    await broadcast(one, people, "b2")
    for app in (one, two):  # both connected before the race starts
        async with app.database.transaction() as session:
            await session.execute(text("SELECT 1"))
    sender = SlowSender()
    first = Dispatcher(one, [sender.for_dispatcher("one")], SYSTEM, batch_size=10)
    second = Dispatcher(two, [sender.for_dispatcher("two")], SYSTEM, batch_size=10)
    await asyncio.gather(first.run_once(), second.run_once())
    users = collections.Counter(user for _, user in sender.log)
    assert len(users) == total and set(users.values()) == {1}, "each row sent exactly once"
    by = collections.Counter(name for name, _ in sender.log)
    assert by["one"] > 0 and by["two"] > 0, f"both dispatchers worked: {by}"
    assert {r.status for r in await rows(one)} == {"sent"}
