"""Proves FakeTelegramServer against the real python-telegram-bot over real HTTP.

Why: other tests trust this fake to behave like Telegram. These tests drive it with PTB's own
``Application``/``Bot`` (httpx underneath) so that encoding, error mapping, polling and webhooks
are checked end to end, not against our assumptions about PTB.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegramServer
from tests.processes import free_port

Handler = Any


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    """A running fake with default settings (no rate limits)."""
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Any]:
    """An initialised PTB ``Bot`` talking to the fake."""
    async with server.bot() as ptb_bot:
        yield ptb_bot


@contextlib.asynccontextmanager
async def polling_app(
    server: FakeTelegramServer, *handlers: Handler
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], list[BaseException]]]:
    """Run a PTB Application in polling mode; yields it and the errors its handlers raised."""
    app = server.application_builder().build()
    errors: list[BaseException] = []

    async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        errors.append(context.error)

    for handler in handlers:
        app.add_handler(handler)
    app.add_error_handler(record_error)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app, errors
        finally:
            await app.updater.stop()
            await app.stop()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo handler: sends the received text back to the chat."""
    assert update.effective_chat is not None and update.effective_message is not None
    await context.bot.send_message(
        chat_id=update.effective_chat.id, text=update.effective_message.text or ""
    )


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def retry_after_of(error: RetryAfter) -> float:
    """Read RetryAfter.retry_after without PTB's int-vs-timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seconds(error.retry_after)


# --- polling with a real Application -------------------------------------------------------------


async def test_echo_bot_round_trip_records_calls(server: FakeTelegramServer) -> None:
    async with polling_app(server, MessageHandler(filters.TEXT, echo)) as (_, errors):
        ada = server.user(42, first_name="Ada")
        update = ada.send_text("hallo buurt 123")
        replies = await ada.wait_reply()
        await server.wait_idle(idle=0.05)

    assert errors == []
    [reply] = replies
    assert reply.method == "sendMessage"
    assert reply.params == {"chat_id": 42, "text": "hallo buurt 123"}
    assert reply.result["message_id"] == update["message"]["message_id"] + 1
    assert reply.result["from"]["is_bot"] is True
    assert reply.result["chat"] == {"id": 42, "type": "private", "first_name": "Ada"}

    methods = [call.method for call in server.calls]
    assert methods[0] == "getMe"
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    assert server.sent_messages() == [reply]
    assert server.sent_messages(chat_id=7) == []
    assert [m["text"] for m in server.messages_for(42).values()] == ["hallo buurt 123"]
    # PTB's shutdown confirms fetched updates with a final getUpdates(offset=last + 1)
    assert server.unconfirmed_updates == 0
    assert server.pending_updates == 0
    assert server.violations == []


async def test_command_keyboard_and_button_press(server: FakeTelegramServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Ja", callback_data="vote:yes"),
                    InlineKeyboardButton("Nee", callback_data="vote:no"),
                ]
            ]
        )
        await update.effective_message.reply_text("Doe je mee?", reply_markup=keyboard)

    async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Bedankt!")
        await query.edit_message_text(f"Gekozen: {query.data}")

    handlers = (CommandHandler("start", start), CallbackQueryHandler(on_vote, pattern="^vote:"))
    async with polling_app(server, *handlers) as (_, errors):
        ada = server.user(42)
        await ada.send_command("start")
        [question] = await ada.wait_reply()
        ada.press("Ja")
        [edit] = await ada.wait_reply()
        await server.wait_for(lambda: server.callback_answers)

    assert errors == []
    assert question.reply_markup is not None
    assert question.reply_markup["inline_keyboard"][0][1] == {
        "text": "Nee",
        "callback_data": "vote:no",
    }
    assert edit.method == "editMessageText"
    message_id = question.result["message_id"]
    assert edit.params["message_id"] == message_id
    shown = server.messages_for(42)[message_id]
    assert shown["text"] == "Gekozen: vote:yes"
    assert "reply_markup" not in shown  # editing text without a keyboard removes it
    assert [answer["text"] for answer in server.callback_answers.values()] == ["Bedankt!"]
    assert server.unanswered_callback_queries == []
    assert server.violations == []


async def test_press_finds_buttons_by_data_and_on_older_messages(
    server: FakeTelegramServer, bot: Any
) -> None:
    ada = server.user(42)
    first = await bot.send_message(
        42,
        "een",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("A", callback_data="a")),
    )
    await bot.send_message(
        42,
        "twee",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("B", callback_data="b")),
    )
    latest = ada.press(callback_data="b")
    older = ada.press("A", message_id=first.message_id)
    assert latest["callback_query"]["data"] == "b"
    assert older["callback_query"]["message"]["text"] == "een"
    assert older["update_id"] > latest["update_id"]
    with pytest.raises(LookupError):
        ada.press("bestaat niet")
    assert len(server.unanswered_callback_queries) == 2
    query_id = older["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id) is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


# --- Telegram's limits ---------------------------------------------------------------------------


async def test_too_long_or_empty_text_is_refused(server: FakeTelegramServer, bot: Any) -> None:
    await bot.send_message(42, "x" * 4096)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(42, "   ")
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(42, photo=b"\xff\xd8 fake jpeg", caption="c" * 1025)

    assert [call.status for call in server.calls_to("sendMessage")] == [200, 400, 400]
    assert server.calls_to("sendMessage")[1].description == "Bad Request: message is too long"
    assert server.violations == [
        "sendMessage(chat_id=42): Bad Request: message is too long",
        "sendMessage(chat_id=42): Bad Request: message text is empty",
        "sendPhoto(chat_id=42): Bad Request: message caption is too long",
    ]
    assert len(server.sent_messages(42)) == 1


async def test_callback_data_is_limited_to_64_bytes(server: FakeTelegramServer, bot: Any) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup.from_button(InlineKeyboardButton("Kies", callback_data=data))

    await bot.send_message(42, "past", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(42, "te lang", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(42, "te lang", reply_markup=keyboard("é" * 33))  # 66 bytes
    assert server.violations == ["sendMessage(chat_id=42): Bad Request: BUTTON_DATA_INVALID"] * 2


async def test_edit_without_change_is_refused(server: FakeTelegramServer, bot: Any) -> None:
    message = await bot.send_message(42, "Stand: 1")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Stand: 1", chat_id=42, message_id=message.message_id)
    edited = await bot.edit_message_text("Stand: 2", chat_id=42, message_id=message.message_id)
    assert edited.text == "Stand: 2"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    assert len(server.violations) == 2
    assert server.messages_for(42)[message.message_id]["text"] == "Stand: 2"


async def test_html_and_markdown_v2_are_parsed_like_telegram(
    server: FakeTelegramServer, bot: Any
) -> None:
    message = await bot.send_message(42, "<b>Hoi</b> &amp; welkom", parse_mode=ParseMode.HTML)
    assert message.text == "Hoi & welkom"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 3)]
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "div" at byte offset 0'):
        await bot.send_message(42, "<div>nee</div>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(42, "Versie 1.0", parse_mode=ParseMode.MARKDOWN_V2)
    ok = await bot.send_message(42, "*Versie* 1\\.0", parse_mode=ParseMode.MARKDOWN_V2)
    assert ok.text == "Versie 1.0"
    assert len(server.violations) == 2


# --- failures and flood control ------------------------------------------------------------------


async def test_injected_failures_map_to_ptb_exceptions(
    server: FakeTelegramServer, bot: Any
) -> None:
    server.fail_next("sendMessage", 429, retry_after=1)
    server.fail_next("sendMessage", 403)
    server.fail_next("sendMessage", 502)
    server.fail_next("sendMessage", 400, description="Bad Request: chat not found")

    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(42, "1")
    assert retry_after_of(retry.value) == 1
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "2")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(42, "3")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "4")
    await bot.send_message(42, "5")

    assert [call.status for call in server.calls_to("sendMessage")] == [429, 403, 502, 400, 200]
    assert server.calls_to("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert server.count_429 == 1
    assert [call.text for call in server.sent_messages()] == ["5"]
    assert server.violations == []  # injected faults are not the bot's fault


async def test_blocked_user_gets_403_and_my_chat_member_update(
    server: FakeTelegramServer, bot: Any
) -> None:
    ada = server.user(42)
    update = Update.de_json(dict(ada.block()), bot)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hallo?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(42, "typing")
    ada.unblock()
    await bot.send_message(42, "welkom terug")
    assert [call.status for call in server.calls_to("sendMessage")] == [403, 200]


async def test_per_chat_and_global_rate_limits() -> None:
    async with FakeTelegramServer(per_chat_rate=1.0, per_chat_burst=3) as server:
        async with server.bot() as bot:
            for n in range(3):
                await bot.send_message(42, f"burst {n}")
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(42, "te snel")
            assert retry_after_of(retry.value) >= 1
            await bot.send_message(43, "andere chat mag wel")
        assert server.count_429 == 1

    async with FakeTelegramServer(global_rate=5) as server:
        async with server.bot() as bot:
            for chat_id in range(1, 6):
                await bot.send_message(chat_id, "hoi")
            with pytest.raises(RetryAfter):
                await bot.send_message(6, "hoi")
            await bot.send_chat_action(6, "typing")  # not a send, not limited
        assert server.count_429 == 1
        assert len(server.sent_messages()) == 5


async def test_delay_slows_down_a_method(server: FakeTelegramServer, bot: Any) -> None:
    server.delay("sendMessage", 0.2)
    started = time.monotonic()
    await bot.send_message(42, "traag")
    assert time.monotonic() - started >= 0.2
    server.delay("sendMessage", 0)
    started = time.monotonic()
    await bot.send_message(42, "snel")
    assert time.monotonic() - started < 0.2


async def test_strict_chats_refuse_unknown_chats() -> None:
    async with FakeTelegramServer(strict_chats=True) as server, server.bot() as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "wie?")
        server.user(42)
        await bot.send_message(42, "jij wel")


# --- getUpdates ----------------------------------------------------------------------------------


async def test_long_poll_returns_early_when_an_update_arrives(
    server: FakeTelegramServer, bot: Any
) -> None:
    ada = server.user(42)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: any(c.status is None for c in server.calls_to("getUpdates")))
    ada.send_text("hoi")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["hoi"]
    assert server.pending_updates == 0
    assert server.unconfirmed_updates == 1

    # updates stay until confirmed with a higher offset, like Telegram
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert server.unconfirmed_updates == 0


async def test_long_poll_waits_for_its_timeout_and_filters_allowed_updates(
    server: FakeTelegramServer,
) -> None:
    url = f"{server.url}/bot{server.token}/getUpdates"
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.post(url, data={"timeout": "0.3"}) as response:
            assert await response.json() == {"ok": True, "result": []}
        assert time.monotonic() - started >= 0.25

        ada = server.user(42)
        ada.send_text("tekst")
        ada.send_location(52.37, 4.89)
        body = {"timeout": 0, "allowed_updates": ["callback_query"]}
        async with session.post(url, json=body) as response:
            assert (await response.json())["result"] == []
        assert server.unconfirmed_updates == 0  # unwanted update types are dropped


# --- webhooks ------------------------------------------------------------------------------------


async def test_webhook_delivery_to_a_ptb_webhook_server() -> None:
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}/telegram"
    async with FakeTelegramServer(deliver_webhooks=True) as server:
        app = server.application_builder().build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="telegram",
                webhook_url=hook_url,
                secret_token="geheim-123",
            )
            try:
                assert server.webhook_url == hook_url
                assert server.webhook_secret == "geheim-123"
                ada = server.user(42)
                ada.send_text("via webhook")
                [reply] = await ada.wait_reply()
                assert reply.params["text"] == "via webhook"
                assert server.unconfirmed_updates == 0

                server.deliver_webhooks = False
                update = {"message": ada.send_text("handmatig")["message"]}
                assert await server.post_to_webhook(update, secret_token="fout") == 403
                assert await server.post_to_webhook() == 200
                [manual] = await ada.wait_reply()
                assert manual.params["text"] == "handmatig"

                info = await app.bot.get_webhook_info()
                assert info.url == hook_url
                assert info.pending_update_count == 0
                with pytest.raises(Conflict, match="webhook is active"):
                    await app.bot.get_updates()
            finally:
                await app.updater.stop()
                await app.stop()
    assert server.violations == []


# --- files, commands, misc -----------------------------------------------------------------------


async def test_uploads_are_recorded_and_files_can_be_downloaded(
    server: FakeTelegramServer, bot: Any
) -> None:
    pdf = b"%PDF-1.4 verslag" * 10
    sent = await bot.send_document(42, document=pdf, filename="verslag.pdf", caption="Verslag")
    assert sent.document.file_name == "verslag.pdf"
    assert sent.caption == "Verslag"
    [call] = server.calls_to("sendDocument")
    upload = call.files["document"]
    assert (upload.filename, upload.size) == ("verslag.pdf", len(pdf))
    assert call.params["chat_id"] == 42

    photo = await bot.send_photo(42, photo=b"\xff\xd8\xff jpeg bytes")
    assert server.calls_to("sendPhoto")[0].files["photo"].size == 14
    again = await bot.send_photo(42, photo=photo.photo[-1].file_id)  # re-send by file_id
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    assert [c.method for c in server.sent_messages(42)] == [
        "sendDocument",
        "sendPhoto",
        "sendPhoto",
    ]

    update = Update.de_json(dict(server.user(42).send_photo(caption="kapotte lantaarn")), bot)
    assert update.message is not None and update.message.caption == "kapotte lantaarn"
    file = await bot.get_file(update.message.photo[-1].file_id)
    assert file.file_path is not None and file.file_path.startswith(server.base_file_url)
    content = await file.download_as_bytearray()
    assert bytes(content) == server.file_bytes(update.message.photo[-1].file_id)
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("onbekend")


async def test_commands_are_stored_per_scope_and_language(
    server: FakeTelegramServer, bot: Any
) -> None:
    await bot.set_my_commands([BotCommand("start", "Begin")], language_code="nl")
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in await bot.get_my_commands(language_code="nl")] == ["start"]
    assert await bot.get_my_commands() == ()
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in private] == ["help"]
    assert server.commands({"type": "all_private_chats"}) == [
        {"command": "help", "description": "Help"}
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Hoofdletter")])
    await bot.delete_my_commands(language_code="nl")
    assert await bot.get_my_commands(language_code="nl") == ()
    assert await bot.close() is True
    assert await bot.log_out() is True


async def test_unknown_method_and_raw_encodings(server: FakeTelegramServer, bot: Any) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    base = f"{server.url}/bot{server.token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/fooBar") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with session.get(f"{server.url}/botWRONG/getMe") as response:
            assert response.status == 401
        markup = {"inline_keyboard": [[{"text": "1", "callback_data": "een"}]]}
        json_body = {"chat_id": 42, "text": "123", "reply_markup": markup}
        async with session.post(f"{base}/sendMessage", json=json_body) as response:
            assert response.status == 200
        async with session.get(f"{base}/sendChatAction?chat_id=42&action=typing") as response:
            assert (await response.json())["result"] is True

    # PTB sends form fields: chat_id "42", reply_markup as JSON text; both decode the same way
    await bot.send_message(
        42,
        "123",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="een")]]),
    )
    raw, via_ptb = server.calls_to("sendMessage")
    assert raw.params == via_ptb.params == json_body
    assert server.calls_to("sendChatAction")[0].params == {"chat_id": 42, "action": "typing"}


async def test_simulated_user_updates_parse_as_ptb_objects(
    server: FakeTelegramServer, bot: Any
) -> None:
    ada = server.user(42, first_name="Ada", language_code="nl")
    updates = [
        ada.send_command("meld", "lantaarn kapot"),
        ada.send_sticker(),
        ada.send_location(52.09, 5.12),
        ada.send_contact(),
        ada.send_voice(duration=4),
        ada.send_document(file_name="foto.pdf"),
        ada.send_in_group("/start@buurtbot_test_bot", group_id=-100123),
    ]
    updates.append(ada.edit_text(updates[0]["message"]["message_id"], "/meld lamp kapot"))
    parsed = [Update.de_json(dict(u), bot) for u in updates]
    ids = [u.update_id for u in parsed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    command = parsed[0].message
    assert command is not None and command.text == "/meld lantaarn kapot"
    assert command.parse_entities(["bot_command"]) == {command.entities[0]: "/meld"}
    assert command.from_user is not None and command.from_user.language_code == "nl"
    assert parsed[1].message.sticker.emoji == "👍"
    assert parsed[2].message.location.latitude == pytest.approx(52.09)
    assert parsed[3].message.contact.user_id == 42
    assert parsed[4].message.voice.duration in (4, dtm.timedelta(seconds=4))
    assert parsed[5].message.document.file_name == "foto.pdf"
    group = parsed[6].message
    assert group.chat.type == "supergroup" and group.chat.id == -100123
    assert group.entities[0].type == "bot_command"
    assert parsed[7].edited_message.text == "/meld lamp kapot"
    assert server.pending_updates == len(updates)


async def test_wait_reply_times_out_with_context(server: FakeTelegramServer) -> None:
    ada = server.user(42)
    ada.send_text("is daar iemand?")
    with pytest.raises(TimeoutError, match="did not send 1 message"):
        await ada.wait_reply(timeout=0.2)
    with pytest.raises(TimeoutError):
        await server.wait_for(lambda s: s.sent_messages(), timeout=0.1)
