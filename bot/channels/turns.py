"""What every channel does around a turn, written once.

A channel reads platform updates and writes platform messages; around each turn it
also has to: bound how many turns run in the service at once (SQLite writes one at a
time), remember each person's language as last seen (for an apology when their turn
crashed, before the database could tell), and hand a reply the platform would not take
to the outbox, so it is not lost. `Turns` does those; Telegram and Signal each hold one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable

from bot.channels.bounded import Bounded
from bot.channels.parts import ChannelParts
from bot.conversation.turns import Incoming, Reply
from bot.i18n.translator import Translator, base_language

log = logging.getLogger(__name__)


class Turns:
    """One channel's turns: `slots` at once, languages as last seen, the outbox as net."""

    def __init__(self, app: ChannelParts, channel: str, slots: int):
        self.service = app.service
        self.parts = app.parts
        self.channel = channel
        self.slots = asyncio.Semaphore(slots)
        self.languages = Bounded()

    async def handle(self, incoming: Incoming, chat: Hashable | None = None) -> Reply:
        """The service's reply, in a slot; remembers the language under `chat` (or the
        person's id)."""
        async with self.slots:
            reply = await self.service.handle(incoming)
        self.seen(chat if chat is not None else incoming.user_id, reply)
        return reply

    def seen(self, chat: Hashable, reply: Reply) -> None:
        if reply.language:
            self.languages.put(chat, reply.language)

    def translator(self, chat: Hashable, hint: str | None = None) -> Translator:
        """The person's language as last seen, else what their app says, else the default."""
        settings = self.parts.settings
        language = self.languages.get(chat)
        if language is None:
            offered = settings.language_list
            code = base_language(hint or "")
            language = code if code in offered else settings.default_language
        return self.parts.catalogs(language)

    def sorry(self, chat: Hashable, hint: str | None = None) -> str:
        """The apology for a turn that crashed, in the person's language."""
        return self.translator(chat, hint).gettext("Sorry, something went wrong. Please try again.")

    def language(self, chat: Hashable) -> str:
        return self.languages.get(chat) or self.parts.settings.default_language

    async def undelivered(self, user_id: str, reply: Reply, error: object, who: str) -> None:
        """A direct reply the platform would not take: to the outbox, to be tried again."""
        queued = await self.service.undelivered(self.channel, user_id, reply)
        log.error(
            "%s: a reply to %s was not delivered (%s); %s",
            self.channel.capitalize(),
            who,
            error,
            "the outbox tries again later" if queued else "nothing to try again",
        )
