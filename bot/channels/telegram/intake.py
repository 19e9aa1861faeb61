"""Updates in, without losing one: kept in the database until they are handled.

Telegram forgets an update once the bot has it: by long polling, when the bot asks for
the updates after it; by webhook, when the webhook answers 200. python-telegram-bot
does both as soon as an update is queued in memory, long before a busy bot has handled
it, so a crash or `kill -9` lost what was waiting: a person's answer, gone without a
word.

`Intake` is what both ways in (`polling`, `webhook`) share: an update is kept in the
inbox (`bot.storage.inbox`) before Telegram is told the bot has it, is handed to the
application's own update processor (`ordering`) in the order it came, and is forgotten
once handled: with the next batch kept, or within `FORGET_AFTER` when nothing comes.
At start-up, what the inbox still holds is handed over first. An update handled just
before a crash may so come again: the conversation service's receipts recognise it.

Several processes on PostgreSQL (`Presence.shared`): an update is kept as above, but
not handed over by the process that received it. Every process claims what it can
handle from the inbox (`inbox.claim`: the oldest update of each person, never two of
one person at once, leased), hands it over and forgets it once handled; the process
that kept an update only claims at once instead of waiting for its next look
(`bot.channels.claims`, the same for Signal). A process that dies leaves its claims to
the others (`bot.storage.processes`).

Before python-telegram-bot parses an update, the parts the channel never reads are
dropped: the keyboard of the message under a pressed button comes whole with every
press, and parsing it was a tenth of the bot's CPU; people's names, @usernames and
shared phone numbers are never written to the inbox (the bot promises not to keep them).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.channels.claims import LEASE, Claims
from bot.channels.telegram.updates import CHANNEL
from bot.channels.turns import Recent
from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.processes import Presence

log = logging.getLogger(__name__)

FORGET_AFTER = 1.0  # seconds: handled updates leave the inbox by then when nothing comes


# What Telegram says about people that the bot never uses, and promises not to keep
# ("not your name or phone number"): dropped before an update is written anywhere.
# python-telegram-bot requires a `User`'s first name and a `Contact`'s number, so those
# are emptied instead.
DROPPED = frozenset({"last_name", "username", "vcard"})
EMPTIED = frozenset({"first_name", "phone_number"})


def trim(update: dict[str, Any]) -> dict[str, Any]:
    """The update without the parts the channel never reads, names and numbers included."""
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        query["message"].pop("reply_markup", None)
    _unname(update)
    return update


def sender(update: dict[str, Any]) -> str | None:
    """The id of the person an update comes from (every kind has one `from`)."""
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            found = value["from"].get("id")
            return str(found) if found is not None else None
    return None


def _unname(value: Any) -> None:
    if isinstance(value, dict):
        for key in DROPPED.intersection(value):
            del value[key]
        for key in EMPTIED.intersection(value):
            value[key] = ""
        for item in value.values():
            if isinstance(item, dict | list):
                _unname(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                _unname(item)


class Intake:
    """Keeps updates, hands them over in order, forgets them once handled."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        database: Database,
        presence: Presence | None = None,
        *,
        capacity: int = 16,
        lease: float = LEASE,
        recent: Recent | None = None,
    ):
        self.application = application
        self.database = database
        self.presence = presence
        self.capacity = capacity
        self.lease = lease
        self._claims: Claims | None = None
        self._handled: list[int] = []
        self._handling: set[asyncio.Task[None]] = set()  # updates, and forgetting them
        # Update ids handed over (the channel base's), to skip one Telegram sends again.
        self._recent = recent if recent is not None else Recent()
        self._forgetting: asyncio.TimerHandle | None = None
        self._open = False

    @property
    def shared(self) -> bool:
        """Whether other processes share the inbox (see the module docstring)."""
        return self.presence is not None and self.presence.shared

    async def replay(self) -> int | None:
        """Hand over what the inbox still holds; the last update id it held.

        Shared, the inbox is claimed from instead, now and whenever an update comes.
        """
        self._open = True
        if self.shared:
            assert self.presence is not None
            self._claims = Claims(
                self.database,
                self.presence,
                CHANNEL,
                self._handle_claimed,
                capacity=self.capacity,
                lease=self.lease,
            )
            self._claims.start()
            return None
        left = await inbox.waiting(self.database, CHANNEL)
        if left:
            log.warning("Telegram: %d updates fetched before a stop are handled now", len(left))
        for _position, payload in left:
            self.hand_over(json.loads(payload))
        return left[-1][0] if left else None

    async def keep(self, updates: list[dict[str, Any]]) -> None:
        """Keep updates (and forget those handled since), before Telegram is told."""
        kept = [
            (update["update_id"], json.dumps(trim(update)), sender(update)) for update in updates
        ]
        if self.shared:
            await inbox.exchange(self.database, CHANNEL, kept)
            return
        handled, self._handled = self._handled, []
        try:
            await inbox.exchange(self.database, CHANNEL, kept, handled)
        except BaseException:
            self._handled.extend(handled)  # forgotten with the next batch
            raise

    def hand_over(self, data: dict[str, Any]) -> None:
        """Queue one update with the application's update processor, in the order given.

        `data` is as kept: `keep` (or the inbox, at a replay) has trimmed it already.
        Shared, the update is claimed from the inbox instead (by this process or another).
        """
        if self._claims is not None:
            self._claims.poke()
            return
        position = data.get("update_id")
        if isinstance(position, int) and not self._recent.first(position):
            return  # sent again by Telegram; already handed over
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            log.exception("Telegram: update %s could not be read; it is dropped", position)
            if isinstance(position, int):
                self._handled.append(position)
            return
        self._track(self._handle(update), f"telegram-update-{position}")

    async def close(self) -> None:
        """Finish what was handed over and forget it."""
        self._open = False
        if self._claims is not None:
            await self._claims.stop()
            while self._handling:
                await asyncio.gather(*list(self._handling), return_exceptions=True)
            await self._claims.forget()
            return
        if self._forgetting is not None:
            self._forgetting.cancel()
            self._forgetting = None
        while self._handling:
            await asyncio.gather(*list(self._handling), return_exceptions=True)
        try:
            await self.keep([])
        except Exception:
            log.warning("Telegram: handled updates stay in the inbox until the next start")

    # ---- claimed, when processes share the inbox ----------------------------------------

    def _handle_claimed(self, claimed: inbox.Claimed) -> None:
        row_id, position, payload, _retried = claimed
        assert self._claims is not None
        try:
            update = Update.de_json(json.loads(payload), self.application.bot)
        except Exception:
            log.exception("Telegram: update %s could not be read; it is dropped", position)
            self._claims.done(row_id)
            return
        self._track(self._handle(update, row_id), f"telegram-update-{position}")

    # ---- handling and forgetting ---------------------------------------------------------

    async def _handle(self, update: Update, claim: int | None = None) -> None:
        # No `await` before the processor: it must see updates in the order they came.
        application = self.application
        try:
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        finally:
            if claim is not None:
                assert self._claims is not None
                self._claims.done(claim)
            else:
                self._handled.append(update.update_id)
                self._forget_soon()

    def _forget_soon(self) -> None:
        if self._forgetting is None and self._open:
            self._forgetting = asyncio.get_running_loop().call_later(FORGET_AFTER, self._forget)

    def _forget(self) -> None:
        self._forgetting = None
        self._track(self._forget_now(), "telegram-inbox-forget")

    async def _forget_now(self) -> None:
        try:
            await self.keep([])
        except Exception:
            log.warning("Telegram: handled updates could not leave the inbox yet", exc_info=True)

    def _track(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
