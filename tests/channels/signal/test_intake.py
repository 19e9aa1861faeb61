"""Signal messages are kept in the inbox until handled, and survive a stop or a crash.

signal-cli has taken a message from the Signal server by the time it is on the event
stream: only the inbox keeps it through a crash. The real channel and service, the fake
daemon over real HTTP; each test runs on SQLite and on PostgreSQL (when configured).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, select

from bot.app import App, build
from bot.channels.signal import start
from bot.channels.signal.intake import FORGET_AFTER, Intake, trim
from bot.channels.signal.updates import read
from bot.settings import Settings
from bot.storage import inbox
from bot.storage.db import sync_url
from bot.storage.models import InboxUpdate
from tests import processes
from tests.channels.signal.conftest import Bot, option
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson

pytestmark = pytest.mark.postgres

ACCOUNT = "+31600000001"
StartBot = Callable[[App | None], Awaitable[Bot]]


@pytest.fixture
async def start_bot(signal_settings: Settings, daemon: FakeSignalDaemon) -> AsyncIterator[StartBot]:
    """Starts the bot, on `app` or a new one; stops at the end what is still running."""
    started: list[Bot] = []

    async def start_bot(app: App | None = None) -> Bot:
        app = app or build(signal_settings)
        channel = await start(app, initial_backoff=0.05, max_backoff=0.2, read_timeout=3)
        bot = Bot(app, channel, daemon)
        started.append(bot)
        await daemon.wait_connections(daemon.connections + 1)
        return bot

    yield start_bot
    for bot in started:
        await stop(bot)  # again, when the test stopped it: harmless
    assert daemon.violations == []


async def stop(bot: Bot, grace: float = 10.0) -> None:
    """Stop the channel (unanswered messages wait `grace` seconds) and close the app."""
    await bot.channel.stop(grace)
    await bot.app.close()


def payload(daemon: FakeSignalDaemon, person: FakeSignalPerson, text: str) -> dict[str, Any]:
    """A receive event of `person` typing `text`, as the daemon streams it."""
    ts = daemon.now()
    data = {"timestamp": ts, "message": text, "expiresInSeconds": 0, "viewOnce": False}
    return {"account": daemon.account, "envelope": person._envelope(ts, dataMessage=data)}


def key(event: dict[str, Any]) -> str:
    envelope = event["envelope"]
    return f"{envelope['sourceUuid']}:{envelope['timestamp']}"


async def kept(app: App) -> list[tuple[int, str]]:
    return await inbox.waiting(app.database, "signal")


async def until_forgotten(app: App) -> None:
    """Until the inbox holds nothing (handled messages leave it within FORGET_AFTER)."""
    for _ in range(int(FORGET_AFTER * 50)):
        if not await kept(app):
            return
        await asyncio.sleep(0.1)
    assert await kept(app) == []


async def test_messages_kept_before_a_crash_are_answered_after_the_restart_once(
    start_bot: StartBot, signal_settings: Settings, daemon: FakeSignalDaemon
) -> None:
    ada = daemon.person("Ada")
    hallo, again = payload(daemon, ada, "Hallo"), payload(daemon, ada, "Hallo?")
    app = build(signal_settings)
    # As a crash leaves them: taken from the daemon, kept, never handled.
    await inbox.exchange(
        app.database, "signal", [(1, json.dumps(hallo), ada.uuid), (2, json.dumps(again), ada.uuid)]
    )
    bot = await start_bot(app)
    await bot.channel.handled(key(hallo))
    await bot.channel.handled(key(again))
    question, *asked_again = ada.take()
    assert "English" in question and "Türkçe" in question
    assert len(asked_again) == 2 and asked_again[-1] == question  # "Hallo?" is no answer
    # After a crash the daemon delivers the same messages again: not answered again.
    daemon.deliver(hallo["envelope"])
    daemon.deliver(again["envelope"])
    help_ts = ada.send_text("/help")
    await bot.channel.handled(ada.key(help_ts))  # one person's messages go in order
    helped = ada.take()
    assert sum("/forget" in text for text in helped) == 1
    assert asked_again[0] not in helped
    assert len(daemon.receipts) == 3  # one a message handled: Hallo, Hallo?, /help
    await until_forgotten(bot.app)


async def test_a_message_not_handled_at_a_stop_is_answered_after_the_next_start(
    start_bot: StartBot, signal_settings: Settings, daemon: FakeSignalDaemon
) -> None:
    ada = daemon.person("Ada Lovelace", number="+31611111111")
    bot = await start_bot(None)
    # The reply to "Hallo" waits out a rate limit; "/help" waits behind it.
    daemon.rate_limit(retry_after=60, recipient=ada.uuid)
    hallo_ts = ada.send_text("Hallo")
    help_ts = ada.send_text("/help")
    for _ in range(100):
        if len(await kept(bot.app)) == 2 and any(c.method == "send" for c in daemon.calls):
            break
        await asyncio.sleep(0.05)
    rows = await kept(bot.app)
    assert len(rows) == 2
    for _position, text in rows:  # the person by UUID only: no number, no name
        assert ada.uuid in text and "+31611111111" not in text and "Lovelace" not in text
    await stop(bot, grace=0.2)
    assert ada.take() == []

    app = build(signal_settings)
    assert len(await kept(app)) == 2
    again = await start_bot(app)
    await again.channel.handled(ada.key(help_ts))
    helped = ada.take()
    assert sum("/forget" in text for text in helped) == 1
    # "Hallo" was handled before the stop, and its reply was lost: its turn is not
    # repeated, but its question is asked again, before the answer to /help.
    hallo = await again.channel.handled(ada.key(hallo_ts))
    assert hallo is not None and hallo.duplicate
    assert "English" in helped[0] and "Türkçe" in helped[0]
    await until_forgotten(again.app)


async def test_handled_messages_leave_the_inbox(start_bot: StartBot) -> None:
    bot = await start_bot(None)
    ada, bob = bot.daemon.person(), bot.daemon.person()
    assert "English" in await bot.say(ada, "Hallo")
    assert "English" in await bot.say(bob, "Hallo")
    assert "/forget" in await bot.say(ada, "/help")
    await until_forgotten(bot.app)
    assert "/privacy" in await bot.say(bob, "/help")
    await bot.channel.stop()  # a stop forgets at once what was handled
    assert await kept(bot.app) == []


async def test_a_message_that_crashes_the_handler_is_dropped_and_the_next_is_handled(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(None)
    ada = bot.daemon.person()
    original = bot.app.service.handle

    async def crash_once(incoming: Any) -> Any:
        monkeypatch.setattr(bot.app.service, "handle", original)
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.app.service, "handle", crash_once)
    crashed = ada.send_text("Hallo")
    assert await bot.channel.handled(ada.key(crashed)) is None
    assert "a message could not be handled" in caplog.text
    # The person is told, in the deployment's language (nothing is known of theirs yet).
    assert ada.take() == ["Sorry, er ging iets mis. Probeer het nog een keer."]
    assert "English" in await bot.say(ada, "Hallo?")
    await until_forgotten(bot.app)
    await bot.channel.stop()
    assert await kept(bot.app) == []


async def test_an_unreadable_kept_message_is_dropped_and_the_next_is_handled(
    start_bot: StartBot,
    signal_settings: Settings,
    daemon: FakeSignalDaemon,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ada = daemon.person()
    hallo = payload(daemon, ada, "Hallo")
    app = build(signal_settings)
    await inbox.exchange(
        app.database,
        "signal",
        [(1, "{not json", None), (2, "[]", None), (3, json.dumps(hallo), ada.uuid)],
    )
    bot = await start_bot(app)
    await bot.channel.handled(key(hallo))
    assert "English" in ada.text()
    assert caplog.text.count("a kept message could not be read") == 2
    await until_forgotten(bot.app)


async def test_each_persons_order_is_kept_when_the_inbox_is_handled(
    start_bot: StartBot, signal_settings: Settings, daemon: FakeSignalDaemon
) -> None:
    ada, bob = daemon.person("Ada"), daemon.person("Bob")
    said = [
        payload(daemon, ada, "Hallo"),
        payload(daemon, bob, "Hallo"),
        payload(daemon, ada, "/help"),
        payload(daemon, bob, "/privacy"),
        payload(daemon, ada, "/privacy"),
    ]
    app = build(signal_settings)
    rows = [(10 * (i + 1), json.dumps(event), None) for i, event in enumerate(said)]
    # Stored in another order than they came: their positions give the order.
    await inbox.exchange(app.database, "signal", [rows[4], rows[1], rows[0]])
    await inbox.exchange(app.database, "signal", [rows[3], rows[2]])
    bot = await start_bot(app)
    live = ada.send_text("/help")  # comes after what the inbox held
    await bot.channel.handled(ada.key(live))
    for event in said:
        await bot.channel.handled(key(event))
    # A read receipt follows each handled message: their order is the handling order.
    for person, count in ((ada, 4), (bob, 2)):
        receipts = [
            c.params["targetTimestamp"][0]
            for c in daemon.calls
            if c.method == "sendReceipt" and c.params["recipient"] == person.uuid
        ]
        assert len(receipts) == count and receipts == sorted(receipts)
        assert "English" in person.inbox[0].message  # "Hallo" was answered first
    await until_forgotten(bot.app)


async def test_new_positions_come_after_what_the_inbox_holds(app: App) -> None:
    """Even when the clock went back since the crash: nothing kept is overwritten."""
    ahead = time.time_ns() + 3600 * 10**9  # kept by a clock an hour ahead of this one
    event = {
        "account": ACCOUNT,
        "envelope": {"sourceUuid": "u", "timestamp": 7, "dataMessage": {"message": "hi"}},
    }
    await inbox.exchange(app.database, "signal", [(ahead, json.dumps(event), "u")])
    intake = Intake(app.database, ACCOUNT)
    [(position, update)] = await intake.replay()
    assert position == ahead and update.key == "u:7"
    first, second = await intake.keep(event, "u"), await intake.keep(event, "u")
    assert first is not None and second is not None and ahead < first < second
    assert [p for p, _ in await kept(app)] == [ahead, first, second]
    intake.handled(ahead)
    intake.handled(first)
    await intake.close()
    assert [p for p, _ in await kept(app)] == [second]


async def test_forget_leaves_no_words_number_name_or_uuid_in_the_file(bot: Bot) -> None:
    """Messages pass through the inbox: they must not outlive the person's erasure."""
    if not bot.app.database.is_sqlite:
        pytest.skip("reads SQLite's files")
    words = "ParkbankjeBijDeVijver"
    uuid = "5e1f0c2a-9b7d-4c3e-8a61-0d2f4b6c8e97"
    zeph = bot.daemon.person("Zephyrine Quackenbush", number="+31698765432", uuid=uuid)
    reply = await bot.say(zeph, "Hallo")
    await bot.say(zeph, option(reply, "English"))
    await bot.say(zeph, f"More benches: {words}")
    assert "delete everything" in await bot.say(zeph, "/forget")
    assert "We deleted everything" in await bot.say(zeph, "yes")
    assert await bot.participants() == []
    await until_forgotten(bot.app)
    path = Path(make_url(bot.app.settings.database_url).database or "")
    wal = Path(f"{path}-wal")
    data = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    left = [t for t in (words, "Quackenbush", "98765432", uuid) if t.encode() in data]
    assert left == []


def test_what_is_kept_reads_as_the_message_and_names_nobody() -> None:
    envelope = {
        "source": "+31612345678",
        "sourceNumber": "+31612345678",
        "sourceUuid": "a-uuid",
        "sourceName": "Ayşe Yılmaz",
        "timestamp": 17,
        "dataMessage": {
            "timestamp": 17,
            "message": "\ufffc 2",
            "quote": {"authorNumber": "+31687654321", "text": "earlier"},
            "mentions": [{"number": "+31600000001", "name": "Buurtbot"}],
            "groupInfo": {"groupId": "g"},
        },
    }
    event = {"account": ACCOUNT, "envelope": envelope}
    trimmed = trim(event)
    assert read(trimmed, ACCOUNT) == read(event, ACCOUNT)
    text = json.dumps(trimmed, ensure_ascii=False)
    assert "+3161" not in text and "+3168" not in text and "Ayşe" not in text
    card = {"name": {"given": "Mo"}, "phone": [{"value": "+31699999999"}]}
    shared = {"account": ACCOUNT, "envelope": {**envelope, "dataMessage": {"contacts": [card]}}}
    kept = trim(shared)
    assert read(kept, ACCOUNT) == read(shared, ACCOUNT) is not None  # "a contact was shared"
    assert "+3169" not in json.dumps(kept) and "Mo" not in json.dumps(kept)
    assert envelope["sourceNumber"] == "+31612345678"  # the event itself is left alone


# ---- `buurtbot run`, killed -----------------------------------------------------------


def _environment(daemon: FakeSignalDaemon, database_url: str, tmp_path: Path) -> dict[str, str]:
    return processes.environment(
        database_url, tmp_path, signal_url=daemon.url, signal_number=daemon.account
    )


async def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)


async def test_messages_received_before_a_kill_are_answered_after_the_restart(
    database_url: str, tmp_path: Path, daemon: FakeSignalDaemon
) -> None:
    """signal-cli has taken them from the Signal server; `kill -9` must not lose them."""
    env = _environment(daemon, database_url, tmp_path)
    engine = create_engine(sync_url(database_url))

    def kept_rows() -> int:
        with engine.connect() as connection:
            count = select(func.count()).select_from(InboxUpdate)
            return connection.execute(count).scalar_one()

    ada = daemon.person("Ada")
    process = await processes.run(env, tmp_path)
    try:
        await daemon.wait_connections(1, timeout=60)
        # The reply to "Hallo" waits out a rate limit, so "/help" waits behind it.
        daemon.rate_limit(retry_after=60, recipient=ada.uuid)
        ada.send_text("Hallo")
        ada.send_text("/help")
        await _until(lambda: kept_rows() == 2 and any(c.method == "send" for c in daemon.calls))
    finally:
        process.kill()
        await process.wait()
    assert ada.take() == []

    process = await processes.run(env, tmp_path)
    try:
        await _until(lambda: bool(ada.inbox))
        await asyncio.sleep(1.0)  # time for anything answered twice to arrive
    finally:
        log = await processes.stopped(process)
    helped = ada.take()
    assert sum("/forget" in text for text in helped) == 1, helped
    assert "2 messages received before a stop are handled now" in log, log
    assert "Traceback" not in log, log
    assert kept_rows() == 0
    engine.dispose()
