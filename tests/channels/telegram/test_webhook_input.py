"""Webhook requests Telegram could never send get 400, not a 500 with the payload in the
log: an `update_id` that is a boolean or does not fit a BIGINT, JSON nested thousands
deep, no object at all. A real update after them is handled as usual."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build
from bot.channels.telegram import start
from bot.channels.telegram.webhook import parse_update
from bot.settings import Settings
from bot.storage.models import InboxUpdate
from tests.fakes.telegram_api import FakeTelegramServer

MARK = "zeven-kikkers-9x"  # a resident's words, which must not reach the log
IMPOSSIBLE = [
    json.dumps({"update_id": True, "message": {"text": MARK}}),
    json.dumps({"update_id": 2**63, "message": {"text": MARK}}),
    json.dumps({"update_id": 10**40, "message": {"text": MARK}}),
    json.dumps({"update_id": -5, "message": {"text": MARK}}),
    json.dumps({"update_id": 1.5, "message": {"text": MARK}}),
    json.dumps({"update_id": "7", "message": {"text": MARK}}),
    '{"update_id": 7, "message": ' + "[" * 5000 + "]" * 5000 + "}",
    "[" * 100_000,
    '{"update_id": 7, "message": {"text": "' + MARK,
    "null",
    json.dumps([{"update_id": 7}]),
]


@pytest.mark.parametrize("body", IMPOSSIBLE, ids=range(len(IMPOSSIBLE)))
def test_parse_update_refuses_what_telegram_never_sends(body: str) -> None:
    assert parse_update(body.encode()) is None


def test_parse_update_takes_a_real_one() -> None:
    body = json.dumps({"update_id": 2**31 + 5, "message": {"text": '[{"x": 1}]' * 100}})
    assert parse_update(body.encode()) == json.loads(body)


async def test_the_webhook_answers_400_and_logs_no_payload(
    webhook_settings: Settings, server: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = build(webhook_settings)
    channel = await start(app, typing_delay=60)
    try:
        hook = webhook_settings.telegram_webhook_url or ""
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": server.webhook_secret or "",
            "Content-Type": "application/json",
        }
        async with aiohttp.ClientSession() as http:
            for body in IMPOSSIBLE:
                async with http.post(hook, data=body, headers=headers) as answer:
                    assert answer.status == 400, body[:60]
        async with app.database.transaction() as session:
            kept = (await session.execute(select(func.count()).select_from(InboxUpdate))).scalar()
        assert kept == 0
        assert MARK not in caplog.text and "Traceback" not in caplog.text
        # The bot still hears people.
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        assert await server.post_to_webhook() == 200
        (question,) = await ada.wait_reply(1)
        assert "Which language" in (question.text or "")
    finally:
        await channel.stop()
        await app.close()
