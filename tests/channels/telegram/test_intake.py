"""Updates are kept in the inbox until handled, by long polling and by webhook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from sqlalchemy import func, select
from telegram import Update

from bot.app import App, build
from bot.channels.telegram import start
from bot.channels.telegram.intake import trim
from bot.settings import Settings
from bot.storage import inbox
from bot.storage.models import InboxUpdate
from tests.channels.telegram.conftest import StartChannel
from tests.fakes.telegram_api import FakeTelegramServer


async def _kept(app: App) -> int:
    async with app.database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(InboxUpdate))).scalar_one()


async def test_a_stop_leaves_nothing_kept_and_nothing_unconfirmed(
    app: App, server: FakeTelegramServer, start_channel: StartChannel
) -> None:
    channel = await start_channel()
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    ada.press("English")
    await ada.wait_reply(3)
    await channel.stop()
    assert await _kept(app) == 0
    assert server.unconfirmed_updates == 0


async def test_what_the_inbox_holds_is_handled_first(
    app: App, server: FakeTelegramServer, start_channel: StartChannel
) -> None:
    ada = server.user(42, language_code="en")
    update = ada.send_command("start")
    # As a crash leaves it: kept, confirmed to Telegram, not handled.
    await inbox.exchange(
        app.database, "telegram", [(update["update_id"], json.dumps(update), "42")]
    )
    server.drop_pending_updates()
    await start_channel()
    (question,) = await ada.wait_reply(1)
    assert "Which language" in (question.text or "")
    assert len(server.calls_to("sendMessage")) == 1


async def test_fetching_goes_on_after_telegram_fails(
    server: FakeTelegramServer, start_channel: StartChannel
) -> None:
    server.fail_next("getUpdates", 502, times=2)
    await start_channel()
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    (question,) = await ada.wait_reply(1, timeout=15)
    assert "Which language" in (question.text or "")


def test_the_keyboard_under_a_pressed_button_is_not_kept() -> None:
    update: dict[str, Any] = {
        "update_id": 1,
        "callback_query": {
            "id": "q",
            "data": "x",
            "message": {"message_id": 7, "text": "Which?", "reply_markup": {"k": []}},
        },
    }
    trimmed = trim(update)
    assert "reply_markup" not in trimmed["callback_query"]["message"]
    assert trimmed["callback_query"]["message"]["text"] == "Which?"
    plain = {"update_id": 2, "message": {"text": "hi", "reply_markup": {"k": []}}}
    assert trim(plain)["message"]["reply_markup"] == {"k": []}


def test_names_usernames_and_shared_numbers_are_never_kept() -> None:
    person = {"id": 42, "is_bot": False, "first_name": "Zeph", "last_name": "Q",
              "username": "zq", "language_code": "tr"}  # fmt: skip
    update: dict[str, Any] = {
        "update_id": 3,
        "message": {
            "message_id": 9,
            "date": 1_700_000_000,
            "from": dict(person),
            "chat": {"id": 42, "type": "private", "first_name": "Zeph", "username": "zq"},
            "contact": {
                "phone_number": "+31612345678",
                "first_name": "Mo",
                "user_id": 7,
                "vcard": "BEGIN:VCARD",
            },
            "entities": [{"type": "mention", "offset": 0, "length": 3, "user": dict(person)}],
        },
    }
    kept = json.dumps(trim(update))
    for trace in ("Zeph", "zq", '"Q"', "+31612345678", "Mo", "VCARD"):
        assert trace not in kept
    # What the channel reads is still there, and python-telegram-bot still parses it.
    parsed = Update.de_json(json.loads(kept), None)
    assert parsed is not None and parsed.message is not None
    assert parsed.message.from_user is not None
    assert (parsed.message.from_user.id, parsed.message.from_user.language_code) == (42, "tr")
    assert parsed.message.contact is not None and parsed.message.contact.user_id == 7


async def test_handled_updates_leave_the_inbox_during_a_quiet_long_poll(
    app: App, server: FakeTelegramServer, start_channel: StartChannel
) -> None:
    await start_channel(poll_timeout=30)
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    for _ in range(50):
        if await _kept(app) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _kept(app) == 0


async def test_a_webhook_update_is_kept_before_telegram_hears_200(
    webhook_settings: Settings, server: FakeTelegramServer
) -> None:
    settings = webhook_settings
    app = build(settings)
    ada = server.user(42, language_code="en")
    left = ada.send_command("start")
    await inbox.exchange(app.database, "telegram", [(left["update_id"], json.dumps(left), "42")])
    server.drop_pending_updates()
    channel = await start(app, typing_delay=60)
    try:
        (question,) = await ada.wait_reply(1)  # what the inbox held comes first
        assert "Which language" in (question.text or "")
        server.delay("editMessageText", 30)  # the press is still being handled
        ada.press("English")
        assert await server.post_to_webhook() == 200
        assert await _kept(app) == 1
        server.delay("editMessageText", 0)
        await ada.wait_reply(3, timeout=40)
        for _ in range(50):
            if await _kept(app) == 0:
                break
            await asyncio.sleep(0.1)
        assert await _kept(app) == 0
        hook = settings.telegram_webhook_url or ""
        secret = {"X-Telegram-Bot-Api-Secret-Token": server.webhook_secret or ""}
        async with aiohttp.ClientSession() as http:
            async with http.post(hook, data="{", headers=secret) as plain:
                assert plain.status == 403  # not JSON
            bad = {**secret, "Content-Type": "application/json"}
            async with http.post(hook, data="[1]", headers=bad) as wrong:
                assert wrong.status == 400
    finally:
        await channel.stop()
        await app.close()
    assert server.violations == []
    assert server.unanswered_callback_queries == []
