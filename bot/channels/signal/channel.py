"""The Signal channel's handler: an event from signal-cli in, the service's reply out.

* a typed message is the answer as typed: the engine reads numbers (`2`, `1, 3`),
  labels in the person's language and command words (`stop`, `stoppen`);
* a photo or voice note is a `Media` event (its attachment id is the reference);
* a reaction on a question's message is the answer it stands for: 1️⃣..🔟 the option
  with that number, 👍/👎 yes or no; removed reactions and other emoji are no answer;
* a message in a group is answered privately, like any other;
* a message already handled (the same sender and timestamp) is not handled again: the
  service keeps a receipt of every handled update in the database.

Around each turn the channel base (`bot.channels.turns`) does what every channel does:
each person's messages one at a time, in order, and different people's at once (the
person is the sender's UUID), the apology on a crash, whether a reply to a message
handled before goes out again, the outbox for a reply Signal would not take. A message
is kept in the database until it is handled (`intake`), so a crash delays it
and loses nothing: at start-up, what was kept and not handled is handled first.

Several processes on PostgreSQL: signal-cli streams its events to one reader, the
leader of `SIGNAL_EVENTS`; a process that does not lead waits and takes over within
seconds when the reader dies. The reader only keeps what it reads; every process,
the reader included, claims kept messages from the inbox and handles them
(`bot.channels.claims`: one person's one at a time and in order, different people's in
all processes at once). A message whose process died halfway is claimed again by
another: handled before, its receipt says so and the current question is asked again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from bot.channels.claims import Claims
from bot.channels.signal.client import (
    EventStream,
    SignalClient,
    SignalError,
)
from bot.channels.signal.intake import Intake
from bot.channels.signal.sender import CHANNEL, AskMemory, SignalSender
from bot.channels.signal.updates import Update, reaction_number, reaction_yes_no, read
from bot.channels.turns import Turns, worth_sending
from bot.conversation.turns import Incoming, Reply
from bot.delivery.sender import Status
from bot.flows.events import Event, Other, Pick, Say, Text
from bot.health import Health
from bot.storage.processes import SIGNAL_EVENTS

if TYPE_CHECKING:
    from bot.channels.parts import ChannelParts

log = logging.getLogger(__name__)


class SignalChannel:
    """Reads the event stream, answers through the service, replies through the sender."""

    name = CHANNEL

    def __init__(
        self,
        app: ChannelParts,
        client: SignalClient,
        *,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        reply_attempts: int = 6,
        max_reply_wait: float = 900.0,
        concurrency: int = 8,
        receipts: bool = True,
    ):
        self.app = app
        self.service = app.service
        self.client = client
        self.asks = AskMemory()
        self.sender = SignalSender(
            client,
            app.parts.catalogs,
            rate=app.settings.signal_rate,
            asks=self.asks,
            on_unreachable=self._unreachable,
        )
        self.intake = Intake(app.database, client.account)
        self.presence = app.presence
        self.presence.want(SIGNAL_EVENTS)
        self._replayed = False
        self.stream = EventStream(
            client,
            self._on_payload,
            initial_backoff,
            max_backoff,
            may_read=lambda: self.presence.leads(SIGNAL_EVENTS),
            on_reading=self._replay,
        )
        self.reply_attempts = reply_attempts
        self.max_reply_wait = max_reply_wait
        self.receipts = receipts
        self.turns = Turns(app, CHANNEL, concurrency)
        # One task an update, in the order they came (`Turns.order` keeps each person's).
        self._workers: set[asyncio.Task[None]] = set()
        self._handled: OrderedDict[str, Reply | None] = OrderedDict()
        # Inbox positions up to this one were kept before the last stop (new ones come
        # after them: see `intake`).
        self._replayed_until = 0
        self._changed = asyncio.Condition()
        self._concurrency = concurrency
        # Shared with other processes: claimed from the inbox (see the module docstring).
        self.claims: Claims | None = None

    # ---- running ---------------------------------------------------------------------

    async def start(self) -> None:
        """Queue what the inbox still holds (received before a stop), then listen.

        Several processes on PostgreSQL: one reads the stream (the leader of
        `SIGNAL_EVENTS`); it queues what the inbox holds when it begins to read, the
        updates a reader before it left behind included.
        """
        if self.presence.shared:
            self.claims = Claims(
                self.app.database,
                self.presence,
                CHANNEL,
                self._handle_claimed,
                capacity=2 * self._concurrency,
            )
            self.claims.start()
        if self.presence.leads(SIGNAL_EVENTS):
            await self._replay()
        self.stream.start()

    async def _replay(self) -> None:
        if self.claims is not None:
            # What the reader before left is claimed like the rest; only the clock moves.
            await self.intake.resume()
            return
        for position, update in await self.intake.replay():
            self._replayed_until = max(self._replayed_until, position)
            self._queue(position, update)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop reading; let the messages already received be answered (for `grace` s).

        What is not answered by then stays in the inbox for the next start.
        """
        await self.stream.stop()
        if self.claims is not None:
            await self.claims.stop()
        if self._workers:
            await asyncio.wait(list(self._workers), timeout=grace)
        for task in list(self._workers):
            task.cancel()
        if self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)
        if self.claims is not None:
            await self.claims.forget()
        await self.intake.close()
        await self.client.close()

    @property
    def connected(self) -> asyncio.Event:
        return self.stream.connected

    @property
    def ended(self) -> asyncio.Future[str] | None:
        """Never: the event stream reconnects for as long as the bot runs."""
        return None

    def health(self) -> Health:
        """Works while the event stream of signal-cli is connected."""
        if self.stream.standby:
            return Health(True, "standby: another process reads signal-cli's events")
        if self.stream.connected.is_set():
            return Health(True, "connected to signal-cli")
        return Health(False, f"not connected to signal-cli at {self.client.base_url}")

    # ---- incoming --------------------------------------------------------------------

    async def _on_payload(self, payload: dict[str, Any]) -> None:
        """One event from the stream: kept first, then queued (the stream waits for both)."""
        update = read(payload, self.client.account)
        if update is None:
            return
        position = await self.intake.keep(payload, update.user_id)
        if self.claims is not None and position is not None:
            self.claims.poke()  # handled by whichever process claims it
            return
        self._queue(position, update)

    def _handle_claimed(self, claimed: tuple[int, int, str, bool]) -> None:
        """A message claimed from the shared inbox: handled in the person's order."""
        row_id, _position, payload, retried = claimed
        assert self.claims is not None
        update = self.intake.read(payload)
        if update is None:
            log.warning("Signal: a kept message could not be read; it is dropped")
            self.claims.done(row_id)
            return
        task = asyncio.create_task(
            self.turns.order.run(update.user_id, self._work_claimed(row_id, update, retried)),
            name=f"signal-{update.key}",
        )
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _work_claimed(self, row_id: int, update: Update, retried: bool) -> None:
        """One claimed message: handled, then it leaves the inbox (even when it failed)."""
        assert self.claims is not None
        reply: Reply | None = None
        try:
            reply = await self.handle(update, replayed=retried)
        except asyncio.CancelledError:
            raise  # stopped before it was handled: its lease ends, another handles it
        except Exception:  # a single bad update never stops the bot
            log.exception("Signal: a message could not be handled")
            await self._sorry(update.user_id)
        self.claims.done(row_id)
        await self._done(update.key, reply)

    def _queue(self, position: int | None, update: Update) -> None:
        """Handle `update` after the person's earlier ones (`position`: its place in the
        inbox, None when not kept)."""
        task = asyncio.create_task(
            self.turns.order.run(update.user_id, self._work(position, update)),
            name=f"signal-{update.key}",
        )
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _work(self, position: int | None, update: Update) -> None:
        """One update, its turn come: handled, then it may leave the inbox."""
        reply: Reply | None = None
        try:
            replayed = position is not None and position <= self._replayed_until
            reply = await self.handle(update, replayed=replayed)
        except asyncio.CancelledError:
            raise  # stopped before it was handled: it stays in the inbox
        except Exception:  # a single bad update never stops the bot
            log.exception("Signal: a message could not be handled")
            await self._sorry(update.user_id)
        self.intake.handled(position)  # even when it failed: it must not loop
        await self._done(update.key, reply)

    async def handle(self, update: Update, replayed: bool = False) -> Reply | None:
        """Hand one update to the service and send its reply; None when it is no answer.

        `replayed`: kept in the inbox before the last stop. Handled already, it was
        stopped between its turn and its reply, so the reply may never have gone out.
        """
        event, conversation_id = self.event_for(update)
        if event is None:
            return None
        # A few people's turns at once; sending waits outside. A crash: the apology.
        reply = await self.turns.serve(
            Incoming(
                CHANNEL, update.user_id, event, key=update.key, conversation_id=conversation_id
            ),
            update.user_id,
            lambda text: self._apologise(update.user_id, text),
        )
        if reply is None:
            return None
        if reply.duplicate:
            log.debug("Signal: %s was handled before", update.key)
            # signal-cli replays recent events whenever the stream reconnects: those
            # were answered. One handled just before a stop may not have been: for it,
            # the service's current question goes out again (at worst it shows twice).
            if worth_sending(reply, maybe_unanswered=replayed):
                await self.reply(update.user_id, reply)
            return reply
        await self.reply(update.user_id, reply)
        if self.receipts and update.event is not None:
            await self._receipt(update)
        return reply

    def event_for(self, update: Update) -> tuple[Event | None, int | None]:
        """The engine event an update stands for, and the conversation it answers."""
        if update.event is not None:
            return update.event, None
        reaction = update.reaction
        if reaction is None or reaction.remove:
            return None, None
        number = reaction_number(reaction.emoji)
        yes_no = reaction_yes_no(reaction.emoji)
        if number is None and yes_no is None:
            return None, None  # ❤️ and the like: no answer
        asked = self.asks.lookup(update.user_id, reaction.target_timestamp)
        if asked is None:
            # Not one of our recent questions (or sent before a restart): ask again rather
            # than guess. In a group it may be someone else's message: leave it.
            return (None, None) if update.group_id else (Other("reaction"), None)
        if number is not None:
            if not 1 <= number <= len(asked.values):
                return Other("reaction"), None
            if asked.multiple and self.asks.latest(update.user_id) == asked:
                # One reaction a message: on the current question it is the whole answer.
                return Text(str(number)), None
            return Pick(asked.step, index=number - 1), asked.conversation_id
        if yes_no not in asked.values:
            return Other("reaction"), None
        return Pick(asked.step, value=yes_no or ""), asked.conversation_id

    # ---- outgoing --------------------------------------------------------------------

    async def reply(self, user_id: str, reply: Reply) -> None:
        """Send a direct reply; wait out rate limits a few times before giving up."""
        delivery = await self.sender.deliver(user_id, reply)
        for _ in range(self.reply_attempts - 1):
            if delivery.status is not Status.RETRY:
                break
            wait = min(delivery.retry_after or 1.0, self.max_reply_wait)
            log.info("Signal: a reply waits %.0f s (%s)", wait, delivery.error)
            await asyncio.sleep(wait)
            delivery = await self.sender.deliver(user_id, reply)
        if delivery.status is Status.RETRY:
            await self.turns.undelivered(user_id, reply, delivery.error, "a person")
        elif delivery.status is Status.FAILED:
            log.error("Signal: a reply could not be sent: %s", delivery.error)

    async def _sorry(self, user_id: str) -> None:
        """Tell the person their message went wrong, in their language as last seen."""
        try:
            await self._apologise(user_id, self.turns.sorry(user_id))
        except Exception:
            log.warning("Signal: the apology could not be sent either", exc_info=True)

    async def _apologise(self, user_id: str, text: str) -> None:
        language = self.turns.language(user_id)
        await self.sender.deliver(user_id, Reply(messages=[Say(text)], language=language))

    async def _receipt(self, update: Update) -> None:
        try:
            await self.client.send_receipt(update.user_id, [update.timestamp])
        except SignalError as error:
            log.debug("Signal: no read receipt: %s", error)

    async def _unreachable(self, user_id: str) -> None:
        log.info("Signal: a person is no longer on Signal; marked unreachable")
        await self.service.mark_unreachable(CHANNEL, user_id)

    # ---- for tests and monitoring ----------------------------------------------------

    async def _done(self, key: str, reply: Reply | None) -> None:
        async with self._changed:
            self._handled[key] = reply
            while len(self._handled) > 1000:
                self._handled.popitem(last=False)
            self._changed.notify_all()

    async def handled(self, key: str, timeout: float = 10.0) -> Reply | None:
        """Wait until the update with `key` has been handled; its reply (None: no answer)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: key in self._handled)
            return self._handled[key]
