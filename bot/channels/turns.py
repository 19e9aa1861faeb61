"""What every channel does around a turn, written once.

A channel reads platform updates and writes platform messages; around each turn it
also has to:

* run one person's updates one after another, in the order they came, and different
  people's at once (`InOrder`);
* skip an update the platform sends again while the first is still in memory
  (`Recent`; the service's receipts catch the rest, across restarts);
* bound how many turns run in the service at once (SQLite writes one at a time);
* on a crash, log it and apologise in the person's language as last seen (before the
  database could tell), and never let one bad update stop the bot;
* decide whether a reply to an update handled before goes out again (`worth_sending`);
* hand a reply the platform would not take to the outbox, so it is not lost.

`Turns` does those; Telegram, Signal and the terminal each hold one. What is left in a
channel is the platform: which key says "the same person" (a Telegram chat, a Signal
UUID) and which says "the same update" (Telegram's update id, Signal's sender and
timestamp).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, TypeVar

from bot.channels.bounded import Bounded
from bot.channels.parts import ChannelParts
from bot.conversation.turns import Incoming, Reply
from bot.i18n.translator import Translator, base_language

log = logging.getLogger(__name__)

T = TypeVar("T")

REMEMBERED_UPDATES = 10_000  # update keys handed over, to skip one the platform sends again


class InOrder:
    """Each person's turns one after another, in the order they came; people's at once.

    `run(person, coroutine)` takes its place in the person's chain before its first
    `await`: whoever creates one task an update, in the order the platform sent them
    (asyncio starts tasks in the order they were created), keeps that order, however
    long each turn takes. A turn that fails still lets the next one go; one that is
    cancelled before it began is closed unrun.
    """

    def __init__(self) -> None:
        self._tails: dict[Hashable, asyncio.Event] = {}

    @property
    def busy(self) -> int:
        """People with a turn running or waiting."""
        return len(self._tails)

    async def run(self, person: Hashable | None, coroutine: Awaitable[T]) -> T:
        """Await `coroutine` after the person's earlier ones (None: no order to keep)."""
        if person is None:
            return await coroutine
        previous = self._tails.get(person)
        mine = asyncio.Event()
        self._tails[person] = mine
        started = False
        try:
            if previous is not None:
                await previous.wait()
            started = True
            return await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()
            mine.set()
            if self._tails.get(person) is mine:
                del self._tails[person]


class Recent:
    """The keys of the updates handed over lately, so one sent again is skipped."""

    def __init__(self, size: int = REMEMBERED_UPDATES):
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def first(self, key: Hashable) -> bool:
        """Whether `key` is new (it is remembered from now on)."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True


def worth_sending(reply: Reply, maybe_unanswered: bool = True) -> bool:
    """Whether a reply goes out: always, unless it answers an update handled before.

    Then the service asks the current question again (`reply.messages`), for when the
    first reply never arrived; it goes out if the update may really be unanswered
    (`maybe_unanswered`: the platform sends again what it thinks the bot missed; Signal's
    stream also replays what was answered, see `bot.channels.signal.channel`).
    """
    return not reply.duplicate or (maybe_unanswered and bool(reply.messages))


class Turns:
    """One channel's turns: `slots` at once, languages as last seen, the outbox as net."""

    def __init__(self, app: ChannelParts, channel: str, slots: int):
        self.service = app.service
        self.parts = app.parts
        self.channel = channel
        self.slots = asyncio.Semaphore(slots)
        self.languages = Bounded()
        self.order = InOrder()
        self.recent = Recent()

    async def serve(
        self,
        incoming: Incoming,
        chat: Hashable,
        apologise: Callable[[str], Awaitable[None]],
        *,
        hint: str | None = None,
        busy: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        who: str = "a person",
    ) -> Reply | None:
        """The service's reply, in a slot; None when the turn crashed.

        A crash is logged and the person gets the apology through `apologise`, in their
        language as last seen under `chat` (else `hint`); the bot goes on. `busy` is
        entered once the turn has its slot, for as long as the service works (Telegram
        shows "typing…"): waiting for a slot is the bot being busy, not the person's turn.
        """
        try:
            async with self.slots, (busy or nullcontext)():
                reply = await self.service.handle(incoming)
        except Exception:
            log.exception("%s: a message could not be handled (%s)", self.channel.capitalize(), who)
            try:
                await apologise(self.sorry(chat, hint))
            except Exception:
                log.warning("%s: the apology could not be sent either", self.channel.capitalize())
            return None
        self.seen(chat, reply)
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
