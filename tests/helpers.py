"""Test helpers that drive the real conversation service like a channel would."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.channels.terminal import render
from bot.conversation.service import ConversationService
from bot.conversation.turns import Incoming, Reply
from bot.flows.events import Ask, Done, Event, Pick, Text, Toggle

_keys = itertools.count(1)

TOWN = ZoneInfo("Europe/Amsterdam")  # BUURTBOT_TIMEZONE's default, which the tests run with


def town_today() -> date:
    """Today where the town is, the day the bot counts "tomorrow" from.

    Not `date.today()`: CI's clock is UTC, and between 23:00 and midnight UTC
    it is already tomorrow in Amsterdam.
    """
    return datetime.now(TOWN).date()


class Person:
    """One simulated person talking to the service through a fake channel."""

    def __init__(
        self,
        service: ConversationService,
        user_id: str = "1001",
        channel: str = "test",
        hint: str | None = None,
    ):
        self.service = service
        self.user_id = user_id
        self.channel = channel
        self.hint = hint
        self.last: Reply | None = None

    async def send(self, event: Event | str) -> Reply:
        if isinstance(event, str):
            event = Text(event)
        self.last = await self.service.handle(
            Incoming(
                self.channel, self.user_id, event, key=f"k{next(_keys)}", language_hint=self.hint
            )
        )
        return self.last

    async def say(self, text: str) -> str:
        return self.text(await self.send(text))

    async def pick(self, value: str) -> str:
        return self.text(await self.send(Pick(self.question().step, value)))

    async def toggle(self, *values: str) -> str:
        for value in values:
            await self.send(Toggle(self.question().step, value))
        return self.text(await self.send(Done(self.question().step)))

    def question(self) -> Ask:
        assert self.last is not None
        asks = [m for m in self.last.messages if isinstance(m, Ask)]
        assert asks, f"no question in {self.last.messages}"
        return asks[-1]

    @staticmethod
    def text(reply: Reply) -> str:
        return "\n".join(render(m) for m in reply.messages)
