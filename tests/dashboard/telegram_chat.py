"""A person on the fake Bot API who answers the bot the way a person does: waits for the
next question, then presses a button (by its label, or its place when the label is in a
language the test does not spell out) or types. For the browser tests whose dashboard
action must reach someone in the chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.dashboard.conftest import Site
from tests.fakes.telegram_api import FakeUser

WAIT = 60.0


@dataclass
class ChatPerson:
    site: Site
    user: FakeUser
    seen: int = 0  # the newest bot message this person has answered

    def _newer(self, keyboard: bool) -> dict[str, Any] | None:
        messages = self.site.telegram.messages_for(self.user.chat_id)
        for message_id in sorted(messages):
            if message_id <= self.seen:
                continue
            message = messages[message_id]
            if not keyboard or "inline_keyboard" in (message.get("reply_markup") or {}):
                return message
        return None

    async def question(self, keyboard: bool = True) -> dict[str, Any]:
        """The next bot message (with buttons, unless `keyboard` is False) after the last
        one answered; waits for it."""
        message = await self.site.telegram.wait_for(lambda: self._newer(keyboard), timeout=WAIT)
        self.seen = message["message_id"]
        return message

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]

    async def press(self, *which: int | str, on: dict[str, Any] | None = None) -> dict[str, Any]:
        """On the next question (or `on` that message): press each button in turn (a
        label, or a place: 0 is the first). Toggles of a multiple choice stay on the same
        message."""
        message = on or await self.question()
        for one in which:
            found = self.buttons(message)
            button = (
                found[one]
                if isinstance(one, int)
                else next(b for b in found if b.get("text") == one)
            )
            self.user.press(callback_data=button["callback_data"], message_id=message["message_id"])
        return message

    async def type(
        self, text: str, keyboard: bool = False, on: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """On the next question (one with buttons to skip it when `keyboard`; or `on`
        that message): type."""
        message = on or await self.question(keyboard)
        self.user.send_text(text)
        return message

    async def onboard(self, neighbourhood: str, age: int, done: str = "Bitti") -> None:
        """The onboarding in Turkish: language, consent, neighbourhood, age group (its
        place: 0 is 12 to 17), one interest."""
        self.user.send_command("start")
        await self.press("Türkçe")
        await self.press(0)  # Evet, kabul ediyorum
        await self.press(neighbourhood)
        await self.press(age)
        await self.press(0, done)
        await self.question()  # the first question of what-matters: onboarded

    async def said(self, needle: str) -> dict[str, Any]:
        """The next bot message whose text holds `needle` (waits for it); answered."""

        def found() -> dict[str, Any] | None:
            messages = self.site.telegram.messages_for(self.user.chat_id)
            for message_id in sorted(messages):
                if message_id > self.seen and needle in (messages[message_id].get("text") or ""):
                    return messages[message_id]
            return None

        message = await self.site.telegram.wait_for(found, timeout=WAIT)
        self.seen = message["message_id"]
        return message
