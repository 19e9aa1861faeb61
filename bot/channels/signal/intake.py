"""Messages in, without losing one: kept in the database until they are handled.

signal-cli takes a message from the Signal server as soon as it can and puts it on the
event stream; the server forgets it then. Waiting in memory for its turn (a person's
earlier message is still being answered, a reply waits out a rate limit), a message
was lost by a crash or a `kill -9`: a person's answer, gone without a word.

`Intake` keeps each message in the inbox (`bot.storage.inbox`, channel "signal") before
the channel queues it, and forgets it once handled, whether that went well or failed
(a message that crashes the handler must not come back at every start): with the next
message kept, or within `FORGET_AFTER` when nothing comes. At start-up, what the inbox
still holds is handed to the channel first, in the order it came. A message handled
just before a crash may so come again: the conversation service's receipts recognise
it, as they recognise what the daemon itself delivers twice.

Signal numbers nothing on the stream, so the intake numbers what it keeps itself: a
nanosecond clock that never goes back or repeats, not even across a restart (it starts
above the last position still in the inbox).

Several processes on PostgreSQL: one reads the stream and keeps what it reads
(`keep`); every process claims from the inbox and handles (`bot.channels.claims`, see
`channel`). A process that begins to read (at start, or taking over from a reader that
died) first moves its clock above what the inbox holds (`resume`), so that a person's
new message never sorts before an older one still waiting, whatever the clocks of the
machines say. The sender's phone number and profile
name are left out of what is kept: the channel knows people by their UUID only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from bot.channels.signal.sender import CHANNEL
from bot.channels.signal.updates import Update, read
from bot.storage import inbox
from bot.storage.db import Database

log = logging.getLogger(__name__)

FORGET_AFTER = 1.0  # seconds: handled messages leave the inbox by then when nothing comes

# Never read by the channel, and they name people: the sender's number and profile
# name, and (in a message) the people it quotes or mentions. Shared contact cards are
# emptied too.
_ENVELOPE_LEFT_OUT = ("source", "sourceNumber", "sourceName")
_MESSAGE_LEFT_OUT = ("quote", "mentions")


def trim(payload: dict[str, Any]) -> dict[str, Any]:
    """The receive event without what names people and the channel never reads."""
    envelope = payload.get("envelope")
    if not isinstance(envelope, dict):
        return payload
    envelope = {k: v for k, v in envelope.items() if k not in _ENVELOPE_LEFT_OUT}
    data = envelope.get("dataMessage")
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in _MESSAGE_LEFT_OUT}
        if isinstance(data.get("contacts"), list):
            # A shared contact card: the channel only sees that one was sent.
            data["contacts"] = [{} for _ in data["contacts"]]
        envelope["dataMessage"] = data
    return {**payload, "envelope": envelope}


class Intake:
    """Keeps messages before they are queued, forgets them once handled."""

    def __init__(self, database: Database, account: str | None):
        self.database = database
        self.account = account
        self._last = 0  # the last position given out
        self._handled: list[int] = []
        self._tasks: set[asyncio.Task[Any]] = set()  # keeping and forgetting
        self._forgetting: asyncio.TimerHandle | None = None
        self._closed = False

    async def replay(self) -> list[tuple[int, Update]]:
        """What the inbox still holds, oldest first, for the channel to handle first."""
        left = await inbox.waiting(self.database, CHANNEL)
        if not left:
            return []
        self._last = max(self._last, left[-1][0])  # new positions come after these
        log.warning("Signal: %d messages received before a stop are handled now", len(left))
        updates = []
        for position, payload in left:
            update = self._read(payload)
            if update is None:
                log.warning("Signal: a kept message could not be read; it is dropped")
                self.handled(position)
            else:
                updates.append((position, update))
        return updates

    async def resume(self) -> None:
        """New positions come after every one the inbox holds (this process reads now).

        What the inbox holds is claimed by the processes, this one among them.
        """
        left = await inbox.waiting(self.database, CHANNEL)
        if left:
            self._last = max(self._last, left[-1][0])
            log.warning("Signal: %d messages received before a stop are handled now", len(left))

    def read(self, payload: str) -> Update | None:
        """A kept message as the channel reads it; None when it cannot be read."""
        return self._read(payload)

    async def keep(self, payload: dict[str, Any], sender: str) -> int | None:
        """Keep one message of `sender` (and forget those handled since); its position.

        None when the database could not keep it: the message is still handled, from
        memory only, as a message must not wait for the database to come back.
        """
        position = self._last = max(self._last + 1, time.time_ns())
        kept: list[inbox.Kept] = [(position, json.dumps(trim(payload), ensure_ascii=False), sender)]
        # Shielded: when the channel stops while the message is being written, the
        # write still ends, and the next start handles what it kept.
        error = await asyncio.shield(self._track(self._exchange(kept)))
        if error is not None:
            log.warning("Signal: a message is handled without being kept (%s)", error)
            return None
        return position

    def handled(self, position: int | None) -> None:
        """The message at `position` was handled (or failed): it leaves the inbox soon."""
        if position is None:
            return
        self._handled.append(position)
        if self._forgetting is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._forgetting = loop.call_later(FORGET_AFTER, self._forget)

    async def close(self) -> None:
        """Forget what was handled; what was not stays for the next start."""
        self._closed = True
        if self._forgetting is not None:
            self._forgetting.cancel()
            self._forgetting = None
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        if await self._exchange([]) is not None:
            log.warning("Signal: handled messages stay in the inbox until the next start")

    # ---- reading, keeping and forgetting ------------------------------------------------

    def _read(self, payload: str) -> Update | None:
        try:
            data = json.loads(payload)
            return read(data, self.account) if isinstance(data, dict) else None
        except Exception:  # a single bad message never stops the start
            return None

    def _forget(self) -> None:
        self._forgetting = None
        self._track(self._forget_now())

    async def _forget_now(self) -> Exception | None:
        error = await self._exchange([])
        if error is not None:
            log.warning("Signal: handled messages could not leave the inbox yet (%s)", error)
        return error

    async def _exchange(self, kept: list[inbox.Kept]) -> Exception | None:
        """Keep `kept` and forget what was handled, in one transaction; what went wrong."""
        handled, self._handled = self._handled, []
        try:
            await inbox.exchange(self.database, CHANNEL, kept, handled)
        except Exception as error:
            self._handled.extend(handled)  # forgotten with the next message
            log.debug("Signal: the inbox could not be written", exc_info=True)
            return error
        return None

    def _track(self, coroutine: Coroutine[Any, Any, Exception | None]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name="signal-inbox")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
