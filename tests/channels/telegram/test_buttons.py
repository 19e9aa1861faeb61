"""Buttons: forged, stale and foreign presses change nothing; every press is answered."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.storage.models import Conversation
from tests.channels.telegram.conftest import buttons, participant, stored_answers
from tests.fakes.telegram_api import FakeTelegramServer


def data_of(server: FakeTelegramServer, chat_id: int, text: str) -> str:
    message = server.last_message(chat_id)
    assert message is not None
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == text:
                return str(button["callback_data"])
    raise LookupError(text)


async def states(app: App) -> list[dict[str, object]]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Conversation).order_by(Conversation.id))).scalars()
        return [dict(row.state) for row in rows]


async def test_callback_data_is_signed_and_short(
    server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    message = server.last_message(42)
    data = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert all(len(d.encode()) <= 64 for d in data)
    _conversation, step, index, mac = data[0].split(":")
    assert step == "language" and index == "0" and len(mac) == 16


async def test_forged_button_gets_a_short_answer_and_changes_nothing(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    genuine = data_of(server, 42, "English")
    before = await states(app)
    server.clear_calls()
    conversation, step, _, mac = genuine.split(":")
    for forged in (
        f"{conversation}:{step}:3:{mac}",  # another option, same signature
        f"{conversation}:consent:0:{mac}",  # another step
        "garbage",
        f"{conversation}:{step}:1:AAAAAAAAAAAAAAAA",
    ):
        ada.press_data(forged)
        await server.wait_for_calls("answerCallbackQuery")
        (answer,) = server.calls_to("answerCallbackQuery")
        assert answer.params["text"] == "This button does not work. Please use the newest one."
        server.clear_calls()
    await server.wait_idle()
    assert server.sent_messages(42) == []
    assert server.calls_to("editMessageText") == []
    assert await states(app) == before
    # The genuine button still works.
    ada.press("English")
    await ada.wait_reply(3)


async def test_stale_button_answers_and_changes_nothing(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    (question,) = await ada.wait_reply(1)
    dutch = data_of(server, 42, "Nederlands")
    ada.press("English")
    await ada.wait_reply(3)
    before = await states(app)
    server.clear_calls()

    # The language question's button again, after it was answered (a replay, or a
    # double tap that arrives late).
    ada.press_data(dutch, message_id=question.result["message_id"])
    await server.wait_for_calls("answerCallbackQuery")
    await server.wait_idle()
    (answer,) = server.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "This button is from an earlier question."
    assert [c.method for c in server.calls if c.method != "getUpdates"] == ["answerCallbackQuery"]
    assert await states(app) == before
    assert (await participant(app, ada)).language == "en"


async def test_a_button_pressed_twice_counts_once(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    english = data_of(server, 42, "English")
    ada.press("English")
    ada.press_data(english)  # the second tap, before the keyboard was edited away
    await server.wait_for_calls("answerCallbackQuery", 2)
    await server.wait_idle()
    second = server.calls_to("answerCallbackQuery")[1]
    assert second.params["text"] == "This button is from an earlier question."
    consent = [c for c in server.sent_messages(42) if "Is this OK" in (c.text or "")]
    assert len(consent) == 1


async def test_a_foreign_button_does_nothing(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, "Ada", language_code="en")
    bob = server.user(77, "Bob", language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    before = await states(app)
    bob.press("English", chat_id=42)  # Ada's button, pressed by Bob
    await server.wait_for_calls("answerCallbackQuery")
    await server.wait_idle()
    answer = server.calls_to("answerCallbackQuery")[-1]
    assert answer.params["text"] == "This button does not work. Please use the newest one."
    assert await states(app) == before
    assert await participant(app, bob) is None
    # Bob's own button data, pressed in his chat, does not verify as Ada's either.
    ada_data = data_of(server, 42, "English")
    bob.send_command("start")
    await bob.wait_reply(1)
    bob.press_data(ada_data)
    await server.wait_for_calls("answerCallbackQuery", 2)
    await server.wait_idle()
    assert buttons(server.last_message(77))  # Bob's question is still open
    assert await stored_answers(app) == {}


async def test_a_refused_press_explains_in_the_answer(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    for label, count in (("English", 3), ("Yes, I agree", 2), ("Kerkelanden", 2), ("12 to 17", 2)):
        ada.press(label)
        await ada.wait_reply(count)
    server.clear_calls()
    ada.press("Done")  # nothing chosen yet
    await server.wait_for_calls("answerCallbackQuery")
    await server.wait_idle()
    (answer,) = server.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Please choose at least 1 option."
    assert answer.params["show_alert"] is True
    assert server.sent_messages(42) == []
