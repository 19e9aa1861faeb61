"""`BotApi` against the fake Bot API: the calls Telegram receives and PTB's errors back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.channels.telegram.api import BotApi
from bot.channels.telegram.request import AiohttpRequest
from tests.fakes.telegram_api import FakeTelegramServer

CHAT = 4242


@pytest.fixture
async def api(server: FakeTelegramServer) -> AsyncIterator[BotApi]:
    server.user(CHAT, language_code="ar")
    bot = Bot(server.token, base_url=server.base_url, request=AiohttpRequest())
    await bot.initialize()
    try:
        yield BotApi(bot)
    finally:
        await bot.shutdown()


async def test_a_question_arrives_as_ptb_would_send_it(
    api: BotApi, server: FakeTelegramServer
) -> None:
    markup = {"inline_keyboard": [[{"text": "نعم ✅", "callback_data": "x1"}]]}
    sent = await api.send_message(CHAT, "هل توافق؟", markup)
    call = server.calls[-1]
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == CHAT
    assert call.params["text"] == "هل توافق؟"
    assert call.reply_markup == markup
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert sent["message_id"] in server.messages_for(CHAT)
    assert sent["text"] == "هل توافق؟"

    await api.edit_message_text(CHAT, sent["message_id"], "هل توافق؟\n\n✅ نعم")
    shown = server.messages_for(CHAT)[sent["message_id"]]
    assert shown["text"].endswith("✅ نعم")
    assert "reply_markup" not in shown  # the buttons are gone


async def test_telegrams_refusals_are_ptbs_errors(api: BotApi, server: FakeTelegramServer) -> None:
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await api.send_message(CHAT, "hallo")
    assert flood.value.retry_after in (7, timedelta(seconds=7))
    server.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden):
        await api.send_message(CHAT, "hallo")
    server.fail_next("editMessageText", 400, description="Bad Request: message not found")
    with pytest.raises(BadRequest, match=r"(?i)message not found"):
        await api.edit_message_text(CHAT, 999, "weg")


async def test_a_button_answer_leaves_out_what_is_not_given(
    api: BotApi, server: FakeTelegramServer
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Ja", "callback_data": "j"}]]}
    await api.send_message(CHAT, "Doe je mee?", keyboard)
    user = server.user(CHAT)
    queries = [user.press("Ja")["callback_query"]["id"] for _ in range(2)]
    await api.answer_callback_query(queries[0])
    await api.answer_callback_query(queries[1], "Kies er een.", alert=True)
    first, second = server.calls[-2:]
    assert first.method == second.method == "answerCallbackQuery"
    assert "text" not in first.params and "show_alert" not in first.params
    assert second.params["text"] == "Kies er een."
    assert second.params["show_alert"] is True
