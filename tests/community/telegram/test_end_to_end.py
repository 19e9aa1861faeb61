"""End to end over the Telegram test server: a worker made by invite code makes an
activity and invites a neighbourhood; residents in three languages get it through the
outbox (the real dispatcher and the channel's sender), others do not; a resident's
forged copy of a worker's button changes nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.delivery.dispatcher import Dispatcher
from bot.i18n.format import local
from bot.storage.models import OutboxMessage
from bot.storage.models.community import Activity, Rsvp
from tests.channels.telegram.conftest import buttons
from tests.community.helpers import future_day, invite_code
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser


async def act(server: FakeTelegramServer, user: FakeUser, action: Any, expect: str) -> str:
    """Do something as `user`; wait for a bot message to them whose text or buttons
    (labels and data, where the step key stands) contain `expect`."""
    start = len(server.calls)
    action()

    def shown(call: Any) -> str:
        return (call.text or "") + " " + str(call.params.get("reply_markup") or "")

    def found() -> Any:
        for call in server.calls[start:]:
            if call.chat_id == user.chat_id and call.ok and expect in shown(call):
                return call
        return None

    try:
        call = await server.wait_for(found, timeout=15)
    except TimeoutError:
        sent = [shown(c) for c in server.calls[start:] if c.chat_id == user.chat_id]
        raise AssertionError(f"{expect!r} not sent to {user.user_id}; got {sent}") from None
    await server.wait_idle()
    return call.text or ""


def press_nth(user: FakeUser, server: FakeTelegramServer, position: int) -> Any:
    """Press a button by its position (its label is in the person's language)."""
    message = server.last_message(user.chat_id)
    assert message is not None
    row = [b for r in message["reply_markup"]["inline_keyboard"] for b in r]
    data = row[position]["callback_data"]
    return lambda: user.press(callback_data=data)


async def onboard(server: FakeTelegramServer, user: FakeUser, language: str, place: str) -> None:
    """Through onboarding with buttons, whatever the language: each step is recognised by
    its key in the buttons' data."""
    names = {"nl": "Nederlands", "en": "English", "tr": "Türkçe", "pl": "Polski"}
    await act(server, user, lambda: user.send_command("start"), "Nederlands")
    await act(server, user, lambda: user.press(names[language]), ":consent:")
    await act(server, user, press_nth(user, server, 0), ":neighbourhood:")
    await act(server, user, lambda: user.press(place), ":age_group:")
    await act(server, user, press_nth(user, server, 1), ":interests:")  # 18 to 27
    await act(server, user, press_nth(user, server, 0), "✅")  # one interest
    await act(server, user, press_nth(user, server, -1), ":good:")  # done; what matters


async def deliver(app: App, channel: TelegramChannel) -> int:
    dispatcher = Dispatcher(app, [channel.sender])
    stats = await dispatcher.run_once()
    return stats.sent


@pytest.mark.usefixtures("channel")
async def test_worker_invites_a_neighbourhood_over_telegram(
    app: App,
    server: FakeTelegramServer,
    channel: TelegramChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = server.user(500, "Wijkwerker", language_code="en")
    await onboard(server, worker, "en", "Kerkelanden")
    code = await invite_code(app)
    await act(server, worker, lambda: worker.send_command("worker", code), "community worker for")

    people = {
        "nl": server.user(601, "Anouk", language_code="nl"),
        "tr": server.user(602, "Emre", language_code="tr"),
        "pl": server.user(603, "Kasia", language_code="pl"),
        "elsewhere": server.user(604, "Bram", language_code="nl"),
    }
    for language in ("nl", "tr", "pl"):
        await onboard(server, people[language], language, "Kerkelanden")
    await onboard(server, people["elsewhere"], "nl", "Centrum")

    # /newactivity, typed answers and buttons.
    await act(server, worker, lambda: worker.send_command("newactivity"), "called")
    await act(server, worker, lambda: worker.send_text("Buurtbarbecue"), "Describe")
    await act(server, worker, lambda: worker.send_text("Samen eten."), "which day")
    await act(server, worker, lambda: worker.send_text(future_day()), "what time")
    await act(server, worker, lambda: worker.send_text("14:00"), "Where is it")
    await act(server, worker, lambda: worker.send_text("De Schakel"), "which ages")
    await act(server, worker, lambda: worker.press("Done"), "interests")
    await act(server, worker, lambda: worker.press("Done"), "languages")
    await act(server, worker, lambda: worker.press("Done"), "maximum")
    await act(server, worker, lambda: worker.press("No"), "other languages")
    await act(server, worker, lambda: worker.press("Yes"), "title in other languages")
    await act(
        server,
        worker,
        lambda: worker.send_text("tr: Mahalle barbeküsü\npl: Grill sąsiedzki"),
        "description in other languages",
    )
    await act(server, worker, lambda: worker.press("No translations"), "/invite")

    # /invite: the activity and the neighbourhood are filled in (there is one of each).
    await act(server, worker, lambda: worker.send_command("invite"), "Which ages")
    await act(server, worker, lambda: worker.press("Done"), "interests")
    await act(server, worker, lambda: worker.press("Done"), "languages")
    await act(server, worker, lambda: worker.press("Done"), "Who of them")
    text = await act(
        server, worker, lambda: worker.press("Everyone who matches"), "Do you want to send it?"
    )
    # Three people: a worker sees "fewer than 5" (a coordinator would see 3).
    assert "This invitation reaches fewer than 5 people" in text
    await server.wait_idle()
    confirm = server.last_message(worker.chat_id)
    assert confirm is not None and "Send now" in buttons(confirm)
    send_now = next(
        b["callback_data"]
        for row in confirm["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Send now"
    )

    # A resident replays the worker's button: it does not verify, nothing is queued.
    caplog.set_level(logging.WARNING)
    forger = people["nl"]
    forger.press_data(send_now)
    await server.wait_for(
        lambda: any("forged or foreign button" in r.getMessage() for r in caplog.records)
    )
    await server.wait_idle()
    async with app.database.transaction() as session:
        assert not (await session.execute(select(OutboxMessage))).first()

    await act(server, worker, lambda: worker.press("Send now"), "are queued")
    assert await deliver(app, channel) == 3

    async with app.database.transaction() as session:
        activity = (await session.execute(select(Activity))).scalar_one()
    day = local(activity.starts_at, app.settings.timezone)
    for language, title in (
        ("nl", "Buurtbarbecue"),
        ("tr", "Mahalle barbeküsü"),
        ("pl", "Grill sąsiedzki"),
    ):
        message = server.last_message(people[language].chat_id)
        assert message is not None
        assert title in message["text"], message["text"]
        assert format_date(day, "MMMM", locale=language) in message["text"]
        assert len(buttons(message)) == 3  # going, maybe, can't
    assert "Buurtbarbecue" not in (server.last_message(people["elsewhere"].chat_id) or {}).get(
        "text", ""
    )

    # The Turkish resident says they will come, with the first button; then the
    # conversation they were in goes on.
    emre = people["tr"]
    await act(server, emre, press_nth(emre, server, 0), ":good:")
    async with app.database.transaction() as session:
        rsvps = (await session.execute(select(Rsvp))).scalars().all()
    assert [(r.answer, r.waiting) for r in rsvps] == [("going", False)]
    await act(server, worker, lambda: worker.send_command("activities"), "going: 1")
