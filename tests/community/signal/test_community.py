"""Invitations over Signal through the outbox, answered by number or by reaction; and one
deployment that runs Telegram and Signal at once, with one database and one broadcast."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build
from bot.channels.signal import start as start_signal
from bot.channels.telegram import start as start_telegram
from bot.community import activities, audit, invitations
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.scheduler import start as start_scheduler
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.community import Rsvp
from tests.channels.signal.conftest import Bot, option
from tests.channels.telegram.conftest import FAST_RETRIES
from tests.channels.telegram.conftest import onboard as onboard_on_telegram
from tests.conftest import make_settings
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson
from tests.fakes.telegram_api import FakeTelegramServer

pytestmark = pytest.mark.postgres

KEYCAP_2 = "2️⃣"


async def onboard(bot: Bot, person: FakeSignalPerson, language: str, place: str) -> None:
    """Onboarding by numbers in any language: the options are found by position."""
    reply = await bot.say(person, "Hallo")
    reply = await bot.say(person, option(reply, language))
    await bot.say(person, "1")  # consent: yes
    reply = person.inbox[-1].message
    reply = await bot.say(person, option(reply, place))
    await bot.say(person, "2")  # 18 to 27
    reply = await bot.say(person, "1")  # one interest
    assert reply


async def barbecue(app: Any, neighbourhood: str = "kerkelanden") -> tuple[int, int]:
    """A worker's activity in `neighbourhood`, and its invitation queued: (id, queued)."""
    async with app.database.transaction() as session:
        activity = await activities.create_activity(
            session,
            title={
                "nl": "Buurtbarbecue",
                "en": "Neighbourhood barbecue",
                "tr": "Mahalle barbeküsü",
            },
            starts_at=utcnow() + timedelta(days=10),
            place="De Schakel",
            neighbourhoods=[neighbourhood],
        )
        audience = invitations.Audience.of([neighbourhood])
        people = await invitations.select_audience(session, audience, activity_id=activity.id)
        queued, _ = await invitations.queue_invitations(session, app.parts, activity, people)
        return activity.id, queued


async def rsvps(app: Any) -> dict[str, str]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Rsvp, Participant).join(Participant))).all()
    return {person.channel_user_id: rsvp.answer for rsvp, person in rows}


async def test_invitation_and_rsvp_over_signal(bot: Bot) -> None:
    ayse = bot.daemon.person("Ayşe")
    piet = bot.daemon.person("Piet")
    elsewhere = bot.daemon.person("Bram")
    await onboard(bot, ayse, "Türkçe", "Kerkelanden")
    await onboard(bot, piet, "English", "Kerkelanden")
    await onboard(bot, elsewhere, "Nederlands", "Centrum")
    for person in (ayse, piet, elsewhere):
        person.take()

    _, queued = await barbecue(bot.app)
    assert queued == 2
    stats = await Dispatcher(bot.app, [bot.channel.sender]).run_once()
    assert stats.sent == 2

    invitation = piet.last_question("Neighbourhood barbecue")
    assert "1. Yes, I will come" in invitation.message
    assert "Mahalle barbeküsü" in ayse.last_question("Mahalle").message
    assert not any("barbe" in m.message.lower() for m in elsewhere.inbox)

    # Piet types the number; Ayşe reacts with 2️⃣ (maybe) on the invitation.
    reply = await bot.say(piet, option(invitation.message, "Yes, I will come"))
    assert "See you" in reply
    await bot.react(ayse, KEYCAP_2, ayse.last_question("Mahalle").timestamp)
    assert await rsvps(bot.app) == {piet.uuid: "going", ayse.uuid: "maybe"}


@pytest.fixture
async def both(
    database_url: str, tmp_path: Path, daemon: FakeSignalDaemon, conversations: Path
) -> Any:
    async with FakeTelegramServer() as server:
        settings = make_settings(
            database_url,
            tmp_path,
            telegram_token=server.token,
            telegram_api_url=server.base_url,
            signal_url=daemon.url,
            signal_number=daemon.account,
            signal_rate=200,
            conversations_dir=conversations,
        )
        app = build(settings)
        telegram = await start_telegram(
            app, poll_timeout=1, typing_delay=60, retry_policy=FAST_RETRIES
        )
        signal = await start_signal(app, initial_backoff=0.05, max_backoff=0.2, read_timeout=3)
        scheduler = await start_scheduler(app, [telegram.sender, signal.sender])
        try:
            await daemon.wait_connections(1)
            yield app, server, telegram, signal
        finally:
            for part in (scheduler, signal, telegram):
                await part.stop()
            await app.close()
        assert server.violations == []
        assert daemon.violations == []


async def test_one_deployment_runs_telegram_and_signal_at_once(
    both: Any, daemon: FakeSignalDaemon
) -> None:
    app, server, _telegram, signal = both
    on_telegram = server.user(701, "Anouk", language_code="en")
    await onboard_on_telegram(on_telegram)
    on_signal = daemon.person("Emre")
    await onboard(Bot(app, signal, daemon), on_signal, "English", "Kerkelanden")

    # One broadcast, two channels, one database.
    _, queued = await barbecue(app)
    assert queued == 2

    async def delivered() -> bool:
        async with app.database.transaction() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        return len(rows) == 2 and all(row.status == "sent" for row in rows)

    async with asyncio.timeout(20):
        while not await delivered():
            await asyncio.sleep(0.1)
    message = server.last_message(on_telegram.chat_id)
    assert message is not None and "Neighbourhood barbecue" in message["text"]
    invitation = on_signal.last_question("Neighbourhood barbecue")
    assert "3. I can't come" in invitation.message

    # Both answer, each on their own platform.
    bot = Bot(app, signal, daemon)
    await bot.say(on_signal, "3")
    row = message["reply_markup"]["inline_keyboard"][0][0]
    on_telegram.press(callback_data=row["callback_data"])
    async with asyncio.timeout(15):
        while len(await rsvps(app)) < 2:
            await asyncio.sleep(0.1)
    assert await rsvps(app) == {str(on_telegram.user_id): "going", on_signal.uuid: "no"}
    async with app.database.transaction() as session:
        channels = sorted((await session.execute(select(Participant.channel))).scalars())
    assert channels == ["signal", "telegram"]


async def test_a_cancelled_activity_reaches_signal_residents_in_their_language(
    bot: Bot,
) -> None:
    """Going (by number) and maybe (by reaction) both hear it is off, in Turkish and
    English; the command line refuses to invite anyone to it after."""
    from bot.community import changes
    from bot.storage.models.community import Activity

    ayse = bot.daemon.person("Ayşe")
    piet = bot.daemon.person("Piet")
    await onboard(bot, ayse, "Türkçe", "Kerkelanden")
    await onboard(bot, piet, "English", "Kerkelanden")
    activity_id, _ = await barbecue(bot.app)
    await Dispatcher(bot.app, [bot.channel.sender]).run_once()
    invitation = piet.last_question("Neighbourhood barbecue")
    await bot.say(piet, option(invitation.message, "Yes, I will come"))
    await bot.react(ayse, KEYCAP_2, ayse.last_question("Mahalle").timestamp)
    for person in (ayse, piet):
        person.take()

    async with bot.app.database.transaction() as session:
        found = await session.get(Activity, activity_id)
        done = await changes.cancel_activity(
            session, bot.app.parts, found, actor=audit.Actor.operator()
        )
        assert await changes.broadcast_refusal(session, found) == changes.IS_CANCELLED
    assert done.told == 2
    stats = await Dispatcher(bot.app, [bot.channel.sender]).run_once()
    assert stats.sent == 2
    assert "iptal edildi" in " ".join(ayse.take())
    assert "is cancelled" in " ".join(piet.take())
