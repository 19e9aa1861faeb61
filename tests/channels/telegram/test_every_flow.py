"""Every resident flow end to end over Telegram, in Dutch, Turkish and Arabic.

The same steps are taken in each language by position (press the n-th button, type a
valid answer), so the test checks what a person in that language sees: no English
source text in any message or button, and every answer stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.storage.models import Participant
from tests.channels.telegram.conftest import buttons, stored_answers
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser
from tests.i18n.test_languages import english_leftovers

Step = tuple[str, Any]

ONBOARDING: list[Step] = [
    ("press", 0),  # the app's language comes first
    ("press", 0),  # consent: yes
    ("press", 2),  # Kerkelanden
    ("press", 1),  # 18 to 27
    ("multi", [0, 2]),  # green, sport
]
WHAT_MATTERS: list[Step] = [
    ("type", "Het park en de markt 🌳"),
    ("multi", [0]),
    ("type", "Meer bankjes"),
    ("type", "Een moestuin"),
    ("multi", [0, 1]),
    ("press", 0),  # keep me informed: yes
]
PROPOSE: list[Step] = [
    ("type", "Sportdag met barbecue"),
    ("multi", [0]),
    ("type", "Het veldje"),
    ("type", "12-06"),
    ("multi", [0, 1]),
    ("press", 0),
    ("press", 0),
]
FEEDBACK: list[Step] = [("press", 0), ("press", 4), ("type", "Gezellig"), ("press", 1)]
CHECKIN: list[Step] = [("press", 0)]


async def answered(server: FakeTelegramServer, chat: int, before: int) -> None:
    """Wait (a bounded while) for a bot message newer than `before`, then for quiet: on a
    loaded machine a turn can be busy in the database longer than the idle window, and
    the next button must be read from the next question, not the last one."""
    for _ in range(50):
        if max(server.messages_for(chat), default=0) > before:
            break
        await asyncio.sleep(0.1)
    await server.wait_idle(idle=0.4, timeout=15)


async def take(user: FakeUser, server: FakeTelegramServer, steps: list[Step]) -> None:
    chat = user.chat_id
    for kind, what in steps:
        before = max(server.messages_for(chat), default=0)
        if kind == "type":
            user.send_text(what)
        else:
            labels = buttons(server.last_message(chat))
            assert labels, f"no buttons to press for {kind} {what}"
            for index in [what] if kind == "press" else what:
                user.press(labels[index].removeprefix("✅ "))
                await server.wait_idle(idle=0.4, timeout=15)
            if kind == "multi":
                user.press(buttons(server.last_message(chat))[-1])  # Done
        await answered(server, chat, before)


def shown(server: FakeTelegramServer, chat: int) -> list[str]:
    """Every text and button the person saw."""
    seen = []
    for call in server.calls:
        if call.chat_id == chat and call.ok and call.text:
            seen.append(call.text)
        if str(call.params.get("chat_id")) == str(chat) and call.reply_markup:
            for row in call.reply_markup.get("inline_keyboard", []):
                seen.extend(button["text"].removeprefix("✅ ") for button in row)
    return seen


@pytest.mark.parametrize("language", ["nl", "tr", "ar"])
async def test_every_resident_flow_in_three_languages(
    app: App, server: FakeTelegramServer, channel: TelegramChannel, language: str
) -> None:
    user = server.user(500, "Deniz", language_code=language)
    user.send_command("start")
    await server.wait_idle(idle=0.4, timeout=15)
    await take(user, server, ONBOARDING + WHAT_MATTERS)
    user.send_command("propose")
    await server.wait_idle(idle=0.4, timeout=15)
    await take(user, server, PROPOSE)

    async with app.database.transaction() as session:
        person = (await session.execute(select(Participant))).scalar_one()
    assert person.language == language and person.neighbourhood == "kerkelanden"
    for flow, variables, steps in (
        ("feedback", {"activity_title": "Buurtbarbecue"}, FEEDBACK),
        ("checkin", {}, CHECKIN),
    ):
        reply = await app.service.start_flow_for(person.id, flow, variables)
        delivered = await channel.sender.deliver(str(user.user_id), reply)
        assert delivered.status == "sent"
        await server.wait_idle(idle=0.4, timeout=15)
        await take(user, server, steps)

    stored = await stored_answers(app)
    assert stored["onboarding.interests"] == ["green", "sport"]
    assert stored["what-matters.good"] == "Het park en de markt 🌳"
    assert stored["what-matters.keep_informed"] is True
    assert stored["propose.when"].endswith("-06-12")
    assert stored["propose.hear_back"] == "chat"
    assert stored["feedback.rating"] == 5 and stored["feedback.help_next"] is False
    assert stored["checkin.join"] is True
    if language != "nl":
        assert english_leftovers(shown(server, user.chat_id), language) == []
    if language == "ar":
        assert any("\u200f" in text for text in shown(server, user.chat_id))
