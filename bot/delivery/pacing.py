"""Pacing one channel: at most `rate` messages a second overall, one a while per chat.

Telegram allows about 30 messages a second overall (1,000 with paid broadcasts) and
about one a second to one chat; it answers 429 with `retry_after` when a bot goes
faster. The pacer keeps the dispatcher under both:

* **Evenly spaced slots** at `rate` a second (a token bucket with a burst of `burst`,
  kept as the time of the next free slot). A reply of several messages takes one slot
  per message.
* **A window guard.** Requests reach the platform a little later than they leave, and
  not all equally late: evenly spaced sends can arrive bunched up, and a platform that
  counts a sliding second then sees one too many. So the n-th message may only go one
  second after the message `floor(rate)` places before it was *answered*. Then no
  second, as the platform counts it, holds more than `rate` messages, whatever the
  network does. The cost is the round-trip time once a second: at 20 ms, 2 % of the
  rate.
* **Per chat**, a gap of `per_chat_interval` between two messages to the same person.
* **After a 429**, the whole channel waits `retry_after` (`pause`) and then goes on at
  the same rate. One refused message means the platform counts differently from us, so
  nobody on the channel is sent anything until it says we may.

* **Across processes** (several `buurtbot run` on PostgreSQL), each message also takes
  a slot of the deployment's shared bucket (`shared`, `bot.storage.send_rates`), so the
  processes together keep to `rate`, not each of them.

Slots are reserved in order, so concurrent senders never take the same slot, and a
sender woken late does not push later slots back. Every `acquire` must be followed by
`done(ticket)` when the platform has answered (or the send was given up).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from bot.delivery.clock import SYSTEM, Clock
from bot.storage.send_rates import SharedRate

DEFAULT_HEADROOM = 1.0
GUARD_TIMEOUT = 120.0  # never wait longer for an earlier send's answer than this


class _Sent:
    """One message's place in the window: when the platform answered it."""

    __slots__ = ("_waiter", "end")

    def __init__(self) -> None:
        self.end: float | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def answered(self) -> None:
        if self.end is not None:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)

    def finish(self, at: float) -> None:
        if self.end is None:
            self.end = at
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)


Ticket = list[_Sent]


class Pacer:
    def __init__(
        self,
        rate: float,
        per_chat_interval: float = 1.0,
        clock: Clock = SYSTEM,
        burst: int = 1,
        headroom: float = DEFAULT_HEADROOM,
        window: float = 1.0,
        shared: SharedRate | None = None,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / (rate * headroom)
        self.per_chat_interval = per_chat_interval
        self.burst = max(1, burst)
        self.clock = clock
        self.window = window
        self.limit = max(1, math.floor(rate * window))
        self._next = clock.monotonic()
        self._paused_until = 0.0
        self._chats: dict[str, float] = {}
        self._recent: deque[_Sent] = deque(maxlen=self.limit)
        self.pauses = 0
        self.shared = shared

    @property
    def paused_for(self) -> float:
        """Seconds until the channel may send again after a 429 (0 when it may)."""
        return max(0.0, self._paused_until - self.clock.monotonic())

    def pause(self, seconds: float) -> None:
        """The platform said to wait: nothing goes out on this channel for `seconds`."""
        until = self.clock.monotonic() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
        self._next = max(self._next, self._paused_until)

    def chat_wait(self, chat: str) -> float:
        """Seconds until `chat` may be sent to again."""
        return max(0.0, self._chats.get(chat, 0.0) - self.clock.monotonic())

    async def acquire(self, chat: str, cost: int = 1) -> Ticket:
        """Wait for this chat's turn and for `cost` free slots; take them.

        Returns the ticket to hand to `done` once the platform answered.
        """
        cost = max(1, cost)
        now = self.clock.monotonic()
        chat_at = max(now, self._chats.get(chat, 0.0))
        self._chats[chat] = chat_at + self.per_chat_interval
        if chat_at > now:
            await self.clock.sleep_until(chat_at)
        while True:
            now = self.clock.monotonic()
            earliest = now - (self.burst - 1) * self.interval
            slot = max(self._next, earliest, self._paused_until)
            self._next = slot + cost * self.interval
            if slot > now:
                await self.clock.sleep_until(slot)
            if self.clock.monotonic() >= self._paused_until:
                break
            # A 429 arrived while we waited: the slot is void, queue again after the pause.
        ticket: Ticket = []
        before: list[_Sent] = []
        for _ in range(cost):
            if len(self._recent) == self.limit:
                before.append(self._recent[0])
            sent = _Sent()
            self._recent.append(sent)
            ticket.append(sent)
        try:
            for earlier in before:
                await self._after(earlier)
            if self.shared is not None:
                wait = await self.shared.take(cost)
                if wait > 0:
                    await self.clock.sleep_until(self.clock.monotonic() + wait)
        except BaseException:
            self.done(ticket)
            raise
        self._forget_idle_chats(now)
        return ticket

    async def _after(self, earlier: _Sent) -> None:
        """Wait until `window` seconds after `earlier` was answered."""
        if earlier.end is None:
            try:
                async with asyncio.timeout(GUARD_TIMEOUT):
                    await earlier.answered()
            except TimeoutError:
                return
        assert earlier.end is not None
        if earlier.end + self.window > self.clock.monotonic():
            await self.clock.sleep_until(earlier.end + self.window)

    def done(self, ticket: Ticket) -> None:
        """The platform answered (or the send was given up): the slots count from now."""
        now = self.clock.monotonic()
        for sent in ticket:
            sent.finish(now)

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chats) > 50_000:
            self._chats = {chat: at for chat, at in self._chats.items() if at > now}
