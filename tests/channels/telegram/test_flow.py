"""A whole conversation over Telegram: buttons, typed answers, what is stored."""

from __future__ import annotations

from bot.app import App
from bot.channels.telegram import TelegramChannel
from tests.channels.telegram.conftest import buttons, onboard, stored_answers, texts
from tests.fakes.telegram_api import FakeTelegramServer


async def test_onboarding_and_what_matters_with_buttons_and_text(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, "Ada", language_code="nl")
    ada.send_command("start")
    (question,) = await ada.wait_reply(1)
    assert question.text  # in Dutch: her app says Dutch
    # The app's language first, every language in its own name, two short ones a row.
    message = server.last_message(42)
    assert buttons(message) == [
        "Nederlands",
        "English",
        "Türkçe",
        "العربية",
        "Polski",
        "Українська",
    ]
    assert [len(row) for row in message["reply_markup"]["inline_keyboard"]] == [2, 2, 2]

    ada.press("English")
    edited, intro, consent = await ada.wait_reply(3)
    assert edited.method == "editMessageText"
    assert edited.params["message_id"] == question.result["message_id"]
    assert edited.text.endswith("\n\n✅ English")
    assert "reply_markup" not in server.messages_for(42)[question.result["message_id"]]
    assert "Welzijn Almelo" in (intro.text or "")
    assert "Is this OK for you?" in (consent.text or "")
    assert server.callback_answers  # the spinner stopped

    for action in (lambda: ada.press("Yes, I agree"), lambda: ada.press("Kerkelanden")):
        action()
        await ada.wait_reply(2)
    assert "How old are you?" in (server.last_message(42)["text"])

    ada.send_text("2")  # typed instead of pressed: the question's buttons go too
    closed, interests = await ada.wait_reply(2)
    assert closed.method == "editMessageText" and closed.text.endswith("✅ 18 to 27")
    assert "What do you care about?" in (interests.text or "")

    ada.press("Green spaces and gardens")
    (toggled,) = await ada.wait_reply(1)
    assert toggled.method == "editMessageReplyMarkup"
    ada.press("Sport and play")
    await ada.wait_reply(1)
    keyboard = buttons(server.last_message(42))
    assert "✅ Green spaces and gardens" in keyboard and "✅ Sport and play" in keyboard
    assert "Safety" in keyboard and keyboard[-2:] == ["Rather not say", "Done"]

    ada.press("Done")
    closed, welcome, good = await ada.wait_reply(3)
    assert closed.text.endswith("✅ Green spaces and gardens, Sport and play")
    assert "Thank you!" in (welcome.text or "")
    assert "What is good about your neighbourhood?" in (good.text or "")

    ada.send_text("The park and the market")
    await ada.wait_reply(2)
    ada.press("More green and gardens")
    await ada.wait_reply(1)
    ada.press("Something else")
    await ada.wait_reply(1)
    ada.press("Done")
    await ada.wait_reply(2)
    ada.send_text("Fewer cars")
    await ada.wait_reply(2)
    ada.press("Rather not say")  # change_why
    await ada.wait_reply(2)
    ada.send_text("A vegetable garden")
    await ada.wait_reply(2)
    ada.send_text("1, 2")  # contribute, typed
    await ada.wait_reply(2)
    ada.press("Yes")
    replies = await ada.wait_reply(2)
    assert "Thank you! 🙏" in texts(replies)[-1]
    await server.wait_idle()

    assert await stored_answers(app) == {
        "onboarding.neighbourhood": "kerkelanden",
        "onboarding.age_group": "18-27",
        "onboarding.interests": ["green", "sport"],
        "what-matters.good": "The park and the market",
        "what-matters.change": ["green", "other"],
        "what-matters.change_other": "Fewer cars",
        "what-matters.change_why": None,
        "what-matters.want_to_do": "A vegetable garden",
        "what-matters.contribute": ["time", "skill"],
        "what-matters.keep_informed": True,
    }
    # No answered question keeps its buttons.
    with_buttons = [m for m in server.messages_for(42).values() if "reply_markup" in m]
    assert with_buttons == []


async def test_onboarding_helper_reaches_what_matters(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(43, "Ada", language_code="en")
    replies = await onboard(ada)
    assert "What is good about your neighbourhood?" in texts(replies)[-1]
