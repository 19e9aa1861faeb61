"""One deployment on Telegram (the fake Bot API) and Signal (the fake daemon) at once, for
the journeys of residents and young people from their own seat.

Nothing runs on its own schedule here: the outbox is sent and the scheduler's jobs are
run by the test, on a `ManualClock`, so "the day after" or "two weeks later" takes no
real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App, build
from bot.channels.signal import SignalChannel
from bot.channels.signal import start as start_signal
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram import start as start_telegram
from bot.delivery.clock import ManualClock
from bot.delivery.scheduler import DeliveryScheduler
from bot.storage.models import OutboxMessage, Participant, utcnow
from tests.channels.signal.conftest import option
from tests.channels.telegram.conftest import FAST_RETRIES
from tests.community.helpers import invite_code
from tests.conftest import ROOT, make_settings
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser


@dataclass
class World:
    """The running bot, both platforms, and a clock the test moves."""

    app: App
    server: FakeTelegramServer
    daemon: FakeSignalDaemon
    telegram: TelegramChannel
    signal: SignalChannel
    clock: ManualClock
    scheduler: DeliveryScheduler

    # ---- Telegram --------------------------------------------------------------------

    async def tg(self, user: FakeUser, action: Callable[[], Any], expect: str) -> str:
        """Do something as `user`; the first bot message to them since, whose text or
        buttons contain `expect` (all their new messages, joined)."""
        start = len(self.server.calls)
        action()

        def shown(call: Any) -> str:
            return (call.text or "") + " " + str(call.params.get("reply_markup") or "")

        def found() -> Any:
            hits = [c for c in self.server.calls[start:] if c.chat_id == user.chat_id and c.ok]
            return hits if any(expect in shown(c) for c in hits) else None

        try:
            await self.server.wait_for(found, timeout=15)
        except TimeoutError:
            got = [shown(c) for c in self.server.calls[start:] if c.chat_id == user.chat_id]
            raise AssertionError(f"{expect!r} not sent to {user.user_id}; got {got}") from None
        await self.server.wait_idle()
        return "\n".join(shown(c) for c in self.server.calls[start:] if c.chat_id == user.chat_id)

    def tg_since(self, user: FakeUser, start: int) -> str:
        """Everything the bot sent `user` since call number `start`."""
        return "\n".join(
            (c.text or "") + " " + str(c.params.get("reply_markup") or "")
            for c in self.server.calls[start:]
            if c.chat_id == user.chat_id and c.ok
        )

    async def tg_onboard(
        self, user: FakeUser, place: str = "Kerkelanden", age: str = "18 to 27"
    ) -> None:
        """Onboarding in English with buttons, to the first question of what-matters."""
        await self.tg(user, lambda: user.send_command("start"), "English")
        await self.tg(user, lambda: user.press("English"), "Yes, I agree")
        await self.tg(user, lambda: user.press("Yes, I agree"), place)
        await self.tg(user, lambda: user.press(place), age)
        await self.tg(user, lambda: user.press(age), "Done")
        await self.tg(user, lambda: user.press("Sport and play"), "Done")
        await self.tg(user, lambda: user.press("Done"), "What is good")

    # ---- Signal ----------------------------------------------------------------------

    async def sg(self, person: FakeSignalPerson, text: str) -> str:
        """`person` types `text` on Signal; what the bot answered."""
        ts = person.send_text(text)
        await self.signal.handled(person.key(ts))
        return person.text()

    async def sg_onboard(
        self, person: FakeSignalPerson, place: str = "Kerkelanden", age: str = "18 to 27"
    ) -> str:
        """Onboarding in English by typed numbers, to the first question of what-matters."""
        reply = await self.sg(person, "Hello")
        reply = await self.sg(person, option(reply, "English"))
        reply = await self.sg(person, "1")  # consent: yes
        reply = await self.sg(person, option(reply, place))
        reply = await self.sg(person, option(reply, age))
        reply = await self.sg(person, option(reply, "Sport and play"))  # numbers: one go
        assert "What is good" in reply, reply
        return reply

    # ---- time and the outbox ---------------------------------------------------------

    async def deliver(self) -> int:
        """One pass of the outbox at the clock's time; how many were sent.

        The clock never lags the real time: what the bot queued a moment ago is due.
        """
        if self.clock.now() < utcnow():
            self.clock.set(utcnow())
        stats = await self.scheduler.dispatcher.run_once()
        await self.server.wait_idle()
        return stats.sent

    async def later(self, by: timedelta) -> int:
        """Move the clock on, run the scheduler's jobs and send what is due."""
        self.clock.advance(by)
        for name in self.app.service.extensions.periodic_jobs:
            await self.scheduler.run_job(name)
        return await self.deliver()

    async def worker(self, user: FakeUser, place: str = "Kerkelanden") -> None:
        """A community worker on Telegram, made the real way (`/worker CODE`)."""
        await self.tg_onboard(user, place, age="28 to 64")
        code = await invite_code(self.app, (place.lower(),))
        await self.tg(user, lambda: user.send_command("worker", code), "community worker")

    async def participant(self, channel: str, user_id: str) -> Participant:
        async with self.app.database.transaction() as session:
            return (
                await session.execute(
                    select(Participant).where(
                        Participant.channel == channel, Participant.channel_user_id == user_id
                    )
                )
            ).scalar_one()

    async def outbox(self, person: Participant | None = None) -> list[OutboxMessage]:
        async with self.app.database.transaction() as session:
            statement = select(OutboxMessage).order_by(OutboxMessage.id)
            if person is not None:
                statement = statement.where(OutboxMessage.participant_id == person.id)
            return list((await session.execute(statement)).scalars())

    def raw_database(self) -> bytes:
        """The SQLite file and its write-ahead log, byte for byte."""
        path = Path(self.app.settings.database_url.removeprefix("sqlite:///"))
        data = b""
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if part.exists():
                data += part.read_bytes()
        return data


@pytest.fixture
def quiet_hours() -> str:
    """No quiet hours unless a test says so (the clock starts at the real time)."""
    return ""


@pytest.fixture
async def world(database_url: str, tmp_path: Path, quiet_hours: str) -> AsyncIterator[World]:
    daemon = FakeSignalDaemon(keepalive=0.5)
    async with FakeTelegramServer() as server, daemon:
        settings = make_settings(
            database_url,
            tmp_path,
            telegram_token=server.token,
            telegram_api_url=server.base_url,
            signal_url=daemon.url,
            signal_number=daemon.account,
            signal_rate=200,
            conversations_dir=ROOT / "conversations",
            quiet_hours=quiet_hours,
        )
        app = build(settings)
        telegram = await start_telegram(
            app, poll_timeout=1, typing_delay=60, retry_policy=FAST_RETRIES
        )
        signal = await start_signal(app, initial_backoff=0.05, max_backoff=0.2, read_timeout=3)
        clock = ManualClock(utcnow().replace(microsecond=0))
        scheduler = DeliveryScheduler(app, [telegram.sender, signal.sender], clock)
        try:
            await daemon.wait_connections(1)
            yield World(app, server, daemon, telegram, signal, clock, scheduler)
        finally:
            await scheduler.dispatcher.stop()
            for part in (signal, telegram):
                await part.stop()
            await app.close()
        assert server.violations == []
        assert server.unanswered_callback_queries == []
        assert daemon.violations == []
