"""Restarts, webhooks, the command menu, concurrency and the typing indicator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App, build
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.application import webhook_secret
from bot.health import Health
from bot.settings import Settings
from bot.storage.models import Conversation
from tests.channels.telegram.conftest import stored_answers, texts
from tests.fakes.telegram_api import Call, FakeTelegramServer


async def test_restart_in_the_middle_of_a_flow(
    app: App, server: FakeTelegramServer, start_channel: Callable[..., Any]
) -> None:
    first = await start_channel()
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    ada.press("English")
    await ada.wait_reply(3)
    ada.press("Yes, I agree")
    await ada.wait_reply(2)
    await first.stop()

    # While the bot is down, Ada presses a button of the question the old process sent.
    ada.press("Kerkelanden")
    await asyncio.sleep(0.2)
    assert server.pending_updates == 1

    second = await start_channel()
    assert second.application is not first.application
    closed, age = await ada.wait_reply(2)
    assert closed.text.endswith("✅ Kerkelanden") and age.text == "How old are you?"
    ada.press("18 to 27")
    await ada.wait_reply(2)
    answers = await stored_answers(app)
    assert answers["onboarding.neighbourhood"] == "kerkelanden"
    assert answers["onboarding.age_group"] == "18-27"


async def test_a_new_app_on_the_same_database_goes_on(
    settings: Any, server: FakeTelegramServer, tmp_path: Path
) -> None:
    """A real restart: a new process (app, engine, channel) on the same database."""
    from bot.channels.telegram import start

    options: dict[str, Any] = {"poll_timeout": 1, "typing_delay": 60}
    ada = server.user(42, language_code="en")
    first_app = build(settings)
    channel = await start(first_app, **options)
    ada.send_command("start")
    await ada.wait_reply(1)
    ada.press("English")
    await ada.wait_reply(3)
    await channel.stop()
    await first_app.close()

    second_app = build(settings)
    try:
        channel = await start(second_app, **options)
        ada.press("Yes, I agree")
        _closed, question = await ada.wait_reply(2)
        assert "Which neighbourhood" in (question.text or "")
        ada.send_text("7606 AB")  # a postcode, typed: asked back with Yes / No buttons
        [asked] = await ada.wait_reply(1)
        assert asked.text == "This postcode is in Kerkelanden. Do you live there?"
        ada.press("Yes")
        closed, _next = await ada.wait_reply(2)
        assert "✅ Kerkelanden" in (closed.text or "")  # the question shows the answer
        assert (await stored_answers(second_app))["onboarding.neighbourhood"] == "kerkelanden"
        await channel.stop()
    finally:
        await second_app.close()
    assert server.violations == []


async def test_webhook_mode_checks_the_secret_token(
    webhook_settings: Settings, server: FakeTelegramServer
) -> None:
    from bot.channels.telegram import start

    settings = webhook_settings
    url = settings.telegram_webhook_url
    app = build(settings)
    channel = await start(app, typing_delay=60)
    try:
        assert server.webhook_url == url
        assert server.webhook_secret == webhook_secret(settings.secret)
        assert server.calls_to("getUpdates") == []
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        assert await server.post_to_webhook(secret_token="not-the-secret") == 403
        assert await server.post_to_webhook(secret_token=None) == 403
        await asyncio.sleep(0.2)
        assert server.sent_messages(42) == []
        assert await server.post_to_webhook() == 200
        (question,) = await ada.wait_reply(1)
        assert "Which language" in (question.text or "")
        ada.press("English")
        assert await server.post_to_webhook() == 200
        await ada.wait_reply(3)
    finally:
        await channel.stop()
        await app.close()
    assert server.violations == []
    assert server.unanswered_callback_queries == []


async def test_health_says_when_telegram_cannot_deliver_to_the_webhook(
    webhook_settings: Settings, server: FakeTelegramServer
) -> None:
    """A proxy that refuses Telegram (here: the wrong secret) leaves the bot deaf."""
    from bot.channels.telegram import start

    app = build(webhook_settings)
    channel = await start(app, typing_delay=60, webhook_check_every=0.1)
    try:
        assert channel.health() == Health(True, "webhook")
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        assert await server.post_to_webhook(secret_token="not-the-secret") == 403
        await server.wait_for(lambda: not channel.health().ok, timeout=5)
        assert "Telegram cannot deliver (1 waiting)" in channel.health().detail
        assert "403" in channel.health().detail
        assert await server.post_to_webhook() == 200
        await ada.wait_reply(1)
        await server.wait_for(lambda: channel.health().ok, timeout=5)
    finally:
        await channel.stop()
        await app.close()


async def test_the_command_menu_is_set_for_every_language(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    languages = app.settings.language_list
    await server.wait_for_calls("setMyCommands", 1 + len(languages))
    default = server.commands()
    names = [c["command"] for c in default]
    assert names[0] == "start"
    wanted = {"language", "help", "privacy", "mydata", "forget", "stop", "matters", "myproposals"}
    assert wanted <= set(names)
    for code in languages:
        menu = server.commands(language_code=code)
        assert [c["command"] for c in menu] == names
        assert all(c["description"].strip() for c in menu)
    english = {c["command"]: c["description"] for c in server.commands(language_code="en")}
    assert english["forget"] == "Delete everything we know about you"
    assert default == server.commands(language_code=app.settings.default_language)


async def test_two_people_at_once_and_one_persons_messages_in_order(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    send_message = server._m_send_message

    slow = {"seconds": 1.0}

    async def slow_for_ada(call: Call) -> Any:
        if call.params.get("chat_id") == 42:
            await asyncio.sleep(slow["seconds"])
        return send_message(call)

    server.register_method("sendMessage", slow_for_ada)
    ada = server.user(42, "Ada", language_code="en")
    bob = server.user(77, "Bob", language_code="en")

    def ada_sending() -> list[Call]:
        return [c for c in server.calls_to("sendMessage") if c.chat_id == 42]

    # Different people: while Ada's reply is slow on its way, Bob is answered.
    ada.send_command("start")
    await server.wait_for(ada_sending)
    bob.send_command("start")
    await bob.wait_reply(1, timeout=0.8)
    assert ada_sending()[0].status is None  # Ada's reply is still on its way
    await ada.wait_reply(1)
    slow["seconds"] = 0.2

    # One person's quick messages: handled and answered in the order sent.
    ada.send_command("help")
    ada.send_command("privacy")
    ada.send_text("English")
    replies = await ada.wait_reply(7, timeout=10)
    sent = texts(replies)
    assert sent[0].startswith("You can type these words")
    assert "Which language" in sent[1]
    assert sent[2].startswith("This chat is from Welzijn Almelo")
    assert "Which language" in sent[3]
    assert sent[4].endswith("✅ English")  # the typed answer closes the last question
    assert "Is this OK" in sent[6]


async def test_many_quick_messages_of_many_people_stay_in_order(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    people = [server.user(1000 + n, f"P{n}", language_code="en") for n in range(12)]
    for person in people:
        person.send_command("start")
    for person in people:
        await person.wait_reply(1)
    for person in people:
        person.send_text("English")
        person.send_text("yes")
        person.send_text("kerkelanden")
    for person in people:
        replies = await person.wait_reply(2 + 1 + 2 + 2, timeout=15)
        sent = texts(replies)
        assert "Is this OK" in sent[2]
        assert "Which neighbourhood" in sent[4]
        assert sent[-1] == "How old are you?"
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Conversation))).scalars().all()
    assert len(rows) == 12 and {r.state["step"] for r in rows} == {"age_group"}


async def test_typing_shows_while_the_service_works(
    app: App,
    server: FakeTelegramServer,
    start_channel: Callable[..., Any],
    monkeypatch: Any,
) -> None:
    await start_channel(typing_delay=0.1)
    handle = app.service.handle

    async def slow(incoming: Any) -> Any:
        await asyncio.sleep(0.4)
        return await handle(incoming)

    monkeypatch.setattr(app.service, "handle", slow)
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    (question,) = await ada.wait_reply(1)
    (typing,) = server.calls_to("sendChatAction")
    assert typing.params == {"chat_id": 42, "action": "typing"}
    assert typing.ok and typing.time < question.time

    monkeypatch.setattr(app.service, "handle", handle)
    ada.press("English")  # quick: no typing indicator
    await ada.wait_reply(3)
    assert len(server.calls_to("sendChatAction")) == 1
