"""The channel's pure parts: button data, texts and keyboards, update mapping, ordering."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.channels.telegram import render
from bot.channels.telegram.application import file_url, webhook_path, webhook_secret
from bot.channels.telegram.callbacks import CallbackSigner, Press
from bot.channels.telegram.errors import RetryPolicy, classify, with_retries
from bot.channels.telegram.ordering import ChatOrderedProcessor
from bot.channels.telegram.updates import Kind, message_event, read
from bot.delivery.sender import Status
from bot.flows.events import Ask, Done, Media, Option, Other, Pick, Skip, Text
from tests.fakes.telegram_api import FakeTelegramServer

SIGNER = CallbackSigner(b"test-secret")


# ---- callback data ----------------------------------------------------------------------


def test_callback_data_round_trip_and_size() -> None:
    step = "s" * 32
    for conversation in (None, 1, 36**8 - 1):
        for action, press in (
            ("0", Press(conversation, step, index=0)),
            ("99", Press(conversation, step, index=99)),
            ("d", Press(conversation, step, done=True)),
            ("s", Press(conversation, step, skip=True)),
        ):
            data = SIGNER.encode("123456789012", conversation, step, action)
            assert len(data.encode()) <= 64
            assert SIGNER.decode("123456789012", data) == press


def test_callback_data_is_bound_to_the_secret_and_the_person() -> None:
    data = SIGNER.option("42", 7, "age", 1)
    assert SIGNER.decode("42", data) == Press(7, "age", index=1)
    assert SIGNER.decode("43", data) is None
    assert CallbackSigner(b"other-secret").decode("42", data) is None
    body, mac = data.rsplit(":", 1)
    assert SIGNER.decode("42", body.replace(":1", ":2") + ":" + mac) is None
    for bad in ("", "x", "a:b:c", "a:b:c:d:e", ":::", "7:age:x:" + mac, "z" * 65):
        assert SIGNER.decode("42", bad) is None


def test_press_events() -> None:
    assert Press(1, "age", index=2).event() == Pick("age", index=2)
    assert Press(1, "themes", done=True).event() == Done("themes")
    assert Press(1, "age", skip=True).event() == Skip("age")


# ---- texts and keyboards ----------------------------------------------------------------


def test_long_text_is_split_at_line_ends() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(100)]  # ~10,000 characters
    pieces = render.split_text("\n".join(lines))
    assert len(pieces) == 3
    assert all(render.utf16_len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)
    assert all(p.startswith("line ") for p in pieces)


def test_text_split_counts_utf16_and_cuts_long_lines() -> None:
    emoji = "🙂" * 3000  # 6,000 UTF-16 units on one line, no spaces
    pieces = render.split_text(emoji)
    assert [render.utf16_len(p) for p in pieces] == [4096, 6000 - 4096]
    words = " ".join(["woord"] * 1500)  # one line of 8,999 characters
    pieces = render.split_text(words)
    assert all(render.utf16_len(p) <= 4096 for p in pieces)
    assert " ".join(pieces) == words
    assert render.split_text("  \n ") == []


def test_answered_text_fits() -> None:
    assert render.answered_text("How old?", "18 to 27") == "How old?\n\n✅ 18 to 27"
    long = render.answered_text("q" * 4096, "answer")
    assert render.utf16_len(long) <= 4096 and long.endswith("✅ answer")


def ask(labels: list[str], **extra: Any) -> Ask:
    options = tuple(Option(f"v{n}", label) for n, label in enumerate(labels))
    return Ask("step", "Question?", options=options, **extra)


def rows(markup: Any) -> list[list[str]]:
    return [[button["text"] for button in row] for row in markup["inline_keyboard"]]


def test_keyboard_layout() -> None:
    assert render.keyboard(Ask("step", "Type it"), SIGNER, "1", 1) is None
    short = render.keyboard(ask(["1", "2", "3", "4", "5"]), SIGNER, "1", 1)
    assert rows(short) == [["1", "2", "3", "4", "5"]]
    two = render.keyboard(ask(["Nederlands", "English", "Türkçe"]), SIGNER, "1", 1)
    assert rows(two) == [["Nederlands", "English"], ["Türkçe"]]
    long = render.keyboard(ask(["Green spaces and gardens", "Safety"]), SIGNER, "1", 1)
    assert rows(long) == [["Green spaces and gardens"], ["Safety"]]


def test_multiple_choice_keyboard_marks_the_selection() -> None:
    question = Ask(
        "themes",
        "Choose",
        options=(
            Option("green", "Green spaces and gardens"),
            Option("safety", "Safety"),
            Option("_skip", "Rather not say"),
        ),
        multiple=True,
        selected=("safety",),
        done_label="Done",
    )
    markup = render.keyboard(question, SIGNER, "42", 9)
    assert rows(markup) == [
        ["Green spaces and gardens"],
        ["✅ Safety"],
        ["Rather not say"],
        ["Done"],
    ]
    data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert [SIGNER.decode("42", d) for d in data] == [
        Press(9, "themes", index=0),
        Press(9, "themes", index=1),
        Press(9, "themes", skip=True),
        Press(9, "themes", done=True),
    ]


# ---- updates ----------------------------------------------------------------------------


async def parsed(update: dict[str, Any], bot: Bot) -> Update:
    return Update.de_json(dict(update), bot)


async def test_updates_become_events() -> None:
    async with FakeTelegramServer() as server:
        bot = server.bot()
        ada = server.user(42, language_code="tr")
        text = await parsed(ada.send_command("start", "n-centrum"), bot)
        inbound = read(text)
        assert inbound.kind is Kind.EVENT and inbound.event == Text("/start n-centrum")
        assert inbound.user_id == "42" and inbound.language_hint == "tr"
        assert inbound.key == f"m42:{text.message.message_id}"

        photo = await parsed(ada.send_photo(file_id="BIG", caption="look"), bot)
        assert message_event(photo.message) == Media("photo", "BIG", "look")
        voice = await parsed(ada.send_voice(), bot)
        assert message_event(voice.message) == Media("voice", voice.message.voice.file_id)
        for update, kind in (
            (ada.send_sticker(), "sticker"),
            (ada.send_location(1.0, 2.0), "location"),
            (ada.send_contact(), "contact"),
            (ada.send_document(), "document"),
        ):
            assert read(await parsed(update, bot)).event == Other(kind)

        edited = await parsed(ada.edit_text(text.message.message_id, "/start"), bot)
        assert read(edited).kind is Kind.EDITED
        group = await parsed(ada.send_in_group("hi", -100123), bot)
        assert read(group).kind is Kind.GROUP and read(group).chat_id == -100123
        blocked = await parsed(ada.block(), bot)
        assert read(blocked).kind is Kind.BLOCKED and read(blocked).user_id == "42"
        unblocked = await parsed(ada.unblock(), bot)
        assert read(unblocked).kind is Kind.IGNORE


async def test_the_largest_photo_size_is_taken() -> None:
    async with FakeTelegramServer() as server:
        bot = server.bot()
        update = dict(server.user(42).send_photo(file_id="SMALL"))
        sizes = update["message"]["photo"]
        sizes.append({**sizes[0], "file_id": "LARGE", "width": 2560, "height": 1920})
        sizes.insert(0, {**sizes[0], "file_id": "TINY", "width": 90, "height": 67})
        event = message_event(Update.de_json(update, bot).message)
        assert event == Media("photo", "LARGE")


# ---- ordering ---------------------------------------------------------------------------


async def test_updates_of_one_chat_run_in_order_and_chats_run_at_once() -> None:
    async with FakeTelegramServer() as server:
        bot = server.bot()
        people = [server.user(n) for n in (1, 2, 3)]
        updates = []
        for round_ in range(5):
            for person in people:
                updates.append(await parsed(person.send_text(f"{round_}"), bot))
    processor = ChatOrderedProcessor()
    seen: dict[int, list[str]] = {1: [], 2: [], 3: []}
    running = 0
    most = 0

    async def work(update: Update) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        # Later updates finish sooner if nothing keeps the order.
        await asyncio.sleep(0.05 - 0.008 * int(update.message.text))
        seen[update.message.chat.id].append(update.message.text)
        running -= 1

    await asyncio.gather(*(processor.process_update(u, work(u)) for u in updates))
    assert seen == {n: ["0", "1", "2", "3", "4"] for n in (1, 2, 3)}
    assert most == 3
    assert processor.busy_chats == 0


async def test_a_failing_update_does_not_block_the_chat() -> None:
    processor = ChatOrderedProcessor()
    async with FakeTelegramServer() as server:
        bot = server.bot()
        first = await parsed(server.user(1).send_text("a"), bot)
        second = await parsed(server.user(1).send_text("b"), bot)
    done: list[str] = []

    async def fail() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.append("b")

    results = await asyncio.gather(
        processor.process_update(first, fail()),
        processor.process_update(second, ok()),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError) and done == ["b"]


# ---- errors -----------------------------------------------------------------------------


def test_errors_map_to_outbox_statuses() -> None:
    assert classify(RetryAfter(timedelta(seconds=3))) == (Status.RETRY, 3.0)
    assert classify(Forbidden("Forbidden: bot was blocked by the user")) == (
        Status.UNREACHABLE,
        None,
    )
    assert classify(BadRequest("Bad Request: chat not found"))[0] is Status.UNREACHABLE
    assert classify(BadRequest("Bad Request: message is too long"))[0] is Status.FAILED
    assert classify(ChatMigrated(5))[0] is Status.FAILED
    assert classify(TimedOut())[0] is Status.RETRY
    assert classify(NetworkError("Bad Gateway"))[0] is Status.RETRY


async def test_retries_are_bounded() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def always_down() -> None:
        raise NetworkError("Bad Gateway")

    from bot.channels.telegram.errors import GaveUp

    policy = RetryPolicy(network_attempts=5, base_delay=1, max_delay=4)
    with pytest.raises(GaveUp):
        await with_retries(
            always_down, what="sendMessage", who="tg-test", policy=policy, sleep=sleep
        )
    assert len(waits) == 4
    assert waits[0] < waits[1] < waits[2] and max(waits) <= 4 * 1.2


def test_log_names_hide_telegram_ids() -> None:
    from bot.channels.telegram.updates import LogNames

    names = LogNames(b"key")
    assert names(42) == names("42") != LogNames(b"other")(42)
    assert names(42).startswith("tg-") and "42" not in names(42)
    assert names(-1001234) == "group -1001234"


def test_settings_derived_values() -> None:
    assert file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"
    assert webhook_path("https://bot.example.org/telegram/hook") == "telegram/hook"
    secret = webhook_secret(b"key")
    assert secret == webhook_secret(b"key") != webhook_secret(b"other")
    assert 1 <= len(secret) <= 256 and secret.replace("-", "").replace("_", "").isalnum()
