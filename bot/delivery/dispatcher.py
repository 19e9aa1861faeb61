"""The dispatcher: sends due outbox rows through each channel's `Sender`, paced.

One pass (`run_once`) repeats until nothing is due:

1. **Claim** up to a batch of due rows in one committed transaction, marking them
   `sending` with this dispatcher's id and the time (its lease). On PostgreSQL the
   claim is `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`, so two
   `buurtbot run` processes never hold the same row; SQLite runs one dispatcher. In the
   same transaction rows that must not go are cancelled with the reason: the person
   stopped (`/stop`), cannot be reached or has not consented; the row is past its
   `expires_at` (a reminder of an activity that has begun); or the person already had
   the weekly number of broadcasts and invitations (`BUURTBOT_WEEKLY_BROADCAST_LIMIT`,
   over the last 7 days; an invitation that would have to wait a week is no use, so it
   is cancelled, not postponed). During quiet hours only urgent rows are claimed; the
   others are moved to the end of the window first.
2. **Send** each row in its own task: render it (a flow is started at send time; a
   started conversation's id is recorded before sending, so a retry repeats its
   question instead of starting a second one), wait for the channel's pacer (`rate`
   messages a second overall, one slot per message of the reply, and
   `per_chat_interval` per chat; see `bot.delivery.pacing`), then one `Sender.deliver`.
3. **Record** results in small committed batches: `sent`; `retry` with exponential
   backoff (a rate limit's `retry_after` instead, which also pauses the channel and
   does not use up an attempt), `dead` with the reason after the row's attempt budget
   (`bot.delivery.retry`: about an hour for replies and urgent notices, a day for
   the rest);
   `unreachable` (the person is marked unreachable and their other queued rows are
   cancelled); `failed`.

Duplicates after a crash. A row is marked `sending` and committed *before* the sender
is called, and its result is committed after. A `kill -9` can therefore only repeat
rows that were `sending` at that moment: at most `max_in_flight` (two batches;
about a quarter second of sending each at the configured rate), and in practice only
the ones already handed to the platform whose result was not yet written. Every other
row is either recorded as done or still `queued`: none is skipped. Rows left
`sending` are put back in the queue at the next start (SQLite: all of them, as only one
dispatcher runs) or when their lease expires (PostgreSQL: another process may still
be sending them; `lease`, two minutes by default, is far longer than one send may
take, as `send_timeout` bounds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import outbox
from bot.conversation.turns import Reply
from bot.delivery import reminders, retry
from bot.delivery.clock import SYSTEM, Clock
from bot.delivery.pacing import DEFAULT_HEADROOM, Pacer
from bot.delivery.parts import DeliveryParts
from bot.delivery.sender import Delivery, Sender, Status
from bot.flows.events import Say
from bot.outbox import Claimed, Recipient, Results
from bot.outbox.quiet_hours import QuietHours
from bot.storage import polls as stored_flows
from bot.storage.errors import describe
from bot.storage.models.outbox import (
    CANCELLED,
    CAPPED_KINDS,
    DEAD,
    FAILED,
    REPLY_KINDS,
    UNREACHABLE,
)
from bot.storage.send_rates import SharedRate

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    released: int = 0
    failed: int = 0
    dead: int = 0
    unreachable: int = 0
    cancelled: int = 0


def default_owner() -> str:
    host = socket.gethostname()[:32]
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Sends the outbox through `senders` (one per channel)."""

    def __init__(
        self,
        app: DeliveryParts,
        senders: Iterable[Sender],
        clock: Clock = SYSTEM,
        *,
        owner: str | None = None,
        batch_size: int | None = None,
        max_in_flight: int | None = None,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int | None = None,
        backoff: timedelta = retry.FIRST_BACKOFF,
        max_backoff: timedelta = retry.LONGEST_BACKOFF,
        send_timeout: float = 60.0,
        max_wait: float = 5.0,
        max_sending: int = 128,
        headroom: float = DEFAULT_HEADROOM,
    ):
        self.app = app
        self.db = app.database
        self.service = app.service
        self.settings = app.settings
        self.clock = clock
        self.senders: dict[str, Sender] = {sender.channel: sender for sender in senders}
        shared = app.presence.shared  # several processes: one rate for them all
        self.pacers = {
            channel: Pacer(
                sender.rate,
                sender.per_chat_interval,
                clock,
                headroom=headroom,
                shared=SharedRate(self.db, channel, sender.rate * headroom) if shared else None,
            )
            for channel, sender in self.senders.items()
        }
        self.owner = owner or default_owner()
        fastest = max((sender.rate for sender in self.senders.values()), default=1.0)
        self.batch_size = batch_size or max(1, min(500, math.ceil(fastest / 4)))
        self.max_in_flight = max(max_in_flight or 2 * self.batch_size, self.batch_size)
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.send_timeout = send_timeout
        self.max_wait = max_wait
        # Calls to the platform at once: enough for 1,000/s at 100 ms a call, and no more
        # than an HTTP pool holds (python-telegram-bot's is 128), so none waits for one.
        self._sending = asyncio.Semaphore(max_sending)
        self.quiet = QuietHours.from_settings(self.settings)
        self.stats = Stats()

        self._pending = Results()
        self._outstanding = 0  # claimed and not yet recorded: the rows `sending` now
        self._result_ready = asyncio.Event()
        self._recorded = asyncio.Event()
        self._run_lock = asyncio.Lock()
        self._drain: asyncio.Task[Any] | None = None
        self._again = False
        self._stopping = False

    # ---- driving ---------------------------------------------------------------------

    def kick(self) -> None:
        """Start a pass now if none is running, else make the running one look again."""
        if self._stopping:
            return
        if self._drain is not None and not self._drain.done():
            self._again = True
            return
        try:
            self._drain = asyncio.get_running_loop().create_task(self._safe_run())
        except RuntimeError:  # called outside the loop (another thread): the tick will come
            return

    async def _safe_run(self) -> None:
        try:
            await self.run_once()
        except Exception:
            log.exception("the outbox pass failed; the next tick tries again")

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop claiming, let rows being sent finish and be recorded, release the rest."""
        self._stopping = True
        drain = self._drain
        if drain is not None and not drain.done():
            try:
                await asyncio.wait_for(asyncio.shield(drain), timeout)
            except TimeoutError:
                log.warning("outbox: stopping with messages in flight; they are re-queued")
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drain

    async def recover(self) -> int:
        """At start-up: put rows a dead process left `sending` back in the queue."""
        async with self.db.transaction() as session:
            if self.db.is_sqlite:
                count = await outbox.requeue_stale(session)
            else:
                count = await outbox.requeue_stale(session, self.clock.now() - self.lease)
        if count:
            log.warning("outbox: %d messages were in flight when the bot stopped: re-queued", count)
        return count

    async def requeue_expired_leases(self) -> int:
        async with self.db.transaction() as session:
            return await outbox.requeue_stale(session, self.clock.now() - self.lease)

    # ---- one pass --------------------------------------------------------------------

    async def run_once(self) -> Stats:
        """Send everything due now; returns what happened (also kept in `stats`)."""
        async with self._run_lock:
            self.stats = Stats()
            recorder = asyncio.create_task(self._record_loop())
            tasks: set[asyncio.Task[None]] = set()
            try:
                await self._pump(tasks)
                if tasks:
                    await asyncio.gather(*list(tasks), return_exceptions=True)
                await self._wait_recorded(0)
            finally:
                recorder.cancel()
                for task in list(tasks):
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recorder
                await self._flush()
                # Rows whose result was not written stay `sending`: recover() re-queues them.
                self._outstanding = 0
            return self.stats

    async def _pump(self, tasks: set[asyncio.Task[None]]) -> None:
        looked_again = False
        while not self._stopping:
            await self._wait_recorded(self.max_in_flight - self.batch_size)
            claimed, keep = await self._claim()
            for row, recipient in keep:
                task = asyncio.create_task(self._process(row, recipient))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if claimed:
                looked_again = False
                continue
            if self._outstanding or tasks:
                # Nothing more due: let what is in flight finish, then look once more
                # (a retry or a paused channel may be due by then).
                if tasks:
                    await asyncio.gather(*list(tasks), return_exceptions=True)
                await self._wait_recorded(0)
                continue
            if self._again and not looked_again:
                self._again = False
                looked_again = True
                continue
            break

    async def _wait_recorded(self, at_most: int) -> None:
        while self._outstanding > max(0, at_most):
            self._recorded.clear()
            await self._recorded.wait()

    def _ready_channels(self) -> list[str]:
        return [
            channel for channel, pacer in self.pacers.items() if pacer.paused_for <= self.max_wait
        ]

    async def _claim(self) -> tuple[int, list[tuple[Claimed, Recipient]]]:
        """Claim a batch; how many rows were claimed, and those that may go."""
        channels = self._ready_channels()
        if not channels:
            return 0, []
        now = self.clock.now()
        quiet_until = self.quiet.until(now) if self.quiet else None
        limit = self.settings.weekly_broadcast_limit
        async with self.db.transaction() as session:
            if quiet_until is not None:
                await outbox.hold_quiet(session, quiet_until)
            if not await outbox.anything_due(session, now, channels, quiet_until is not None):
                return 0, []
            rows = await outbox.claim(
                session,
                self.owner,
                now,
                self.batch_size,
                channels,
                urgent_only=quiet_until is not None,
            )
            if not rows:
                return 0, []
            people = await outbox.recipients(session, (row.participant_id for row in rows))
            capped = [row for row in rows if row.kind in CAPPED_KINDS]
            counts = await outbox.capped_counts(
                session,
                (row.participant_id for row in capped),
                now - WEEK,
                exclude=[row.id for row in rows],
            )
            keep: list[tuple[Claimed, Recipient]] = []
            skipped = Results()
            for row in rows:
                person = people.get(row.participant_id)
                reason = _why_not(person, reply=row.kind in REPLY_KINDS)
                if reason is None and row.expires_at is not None and row.expires_at <= now:
                    reason = "too late: it expired before it could be sent"
                if reason is None and row.kind in CAPPED_KINDS:
                    if counts.get(row.participant_id, 0) >= limit:
                        reason = f"weekly limit reached: {limit} broadcasts or invitations a week"
                    else:
                        counts[row.participant_id] = counts.get(row.participant_id, 0) + 1
                if reason is not None:
                    skipped.final.append((row.id, CANCELLED, row.attempts, reason))
                    continue
                assert person is not None
                keep.append((row, person))
            if skipped.final:
                await outbox.record(session, self.owner, skipped)
        self.stats.claimed += len(rows)
        self.stats.cancelled += len(skipped.final)
        self._outstanding += len(keep)
        return len(rows), keep

    # ---- one row ---------------------------------------------------------------------

    async def _process(self, row: Claimed, person: Recipient) -> None:
        try:
            await self._send(row, person)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not lose the row: retry it later
            log.exception("outbox: row %s failed unexpectedly", row.id)
            self._retry(row, f"internal error: {error!r}")
        finally:
            self._result_ready.set()

    async def _send(self, row: Claimed, person: Recipient) -> None:
        sender = self.senders[row.channel]
        pacer = self.pacers[row.channel]
        if self._stopping:
            self._release(row, self.clock.now(), "the bot was stopping")
            return
        reply, reason = await self._render(row, person)
        if reply is None:
            self._final(row, CANCELLED, row.attempts, reason)
            return
        chat = person.channel_user_id
        wait = max(pacer.paused_for, pacer.chat_wait(chat))
        if wait > self.max_wait:
            self._release(row, self.clock.now() + timedelta(seconds=wait), "waiting for the rate")
            return
        ticket = await pacer.acquire(chat, cost=len(reply.messages))
        try:
            if self._stopping:
                self._release(row, self.clock.now(), "the bot was stopping")
                return
            try:
                async with self._sending, asyncio.timeout(self.send_timeout):
                    delivery = await sender.deliver(chat, reply)
            except TimeoutError:
                error = f"no answer within {self.send_timeout:g} s"
                delivery = Delivery(Status.RETRY, error=error)
            except Exception as error:
                delivery = Delivery(
                    Status.RETRY, error=f"{type(error).__name__}: {describe(error)}"
                )
        finally:
            pacer.done(ticket)
        self._judge(row, person, delivery, pacer)

    async def _render(self, row: Claimed, person: Recipient) -> tuple[Reply | None, str]:
        content = row.content
        kind = content.get("type")
        language = person.language or self.settings.default_language
        if kind == "text":
            message = content.get("text")
            if isinstance(message, dict):
                message = (
                    message.get(language)
                    or message.get(self.settings.default_language)
                    or next(iter(message.values()), None)
                )
            if not message:
                return None, "no text to send"
            return Reply(messages=[Say(str(message))], language=language), ""
        if kind == "resume":
            return await reminders.render_resume(
                self.app, int(content["conversation_id"]), content.get("idle_since")
            )
        if kind == "question":
            return await self._question_again(int(content["conversation_id"]))
        if kind == "flow":
            if row.conversation_id is not None:
                return await self._question_again(row.conversation_id)
            flow_id = str(content.get("flow"))
            known = self.app.library.get(flow_id)
            if known is None:
                # A poll written in another process's dashboard is read here the first time.
                async with self.db.transaction() as session:
                    known = await stored_flows.find(session, self.app.library, flow_id)
            if known is None:
                return None, f"unknown flow {flow_id!r}"
            reply = await self.service.start_flow_for(
                row.participant_id, flow_id, content.get("variables") or {}
            )
            if not reply.messages:
                return None, "the flow had nothing to say"
            if reply.conversation_id is not None:
                # Before sending: a retry must repeat this conversation's question.
                row.conversation_id = reply.conversation_id
                started = Results(conversations=[(row.id, reply.conversation_id)])
                async with self.db.transaction() as session:
                    await outbox.record(session, self.owner, started)
            return reply, ""
        return None, f"unknown content type {kind!r}"

    async def _question_again(self, conversation_id: int) -> tuple[Reply | None, str]:
        reply = await self.service.reply_for(conversation_id)
        if not reply.messages:
            return None, "the conversation is no longer waiting for an answer"
        return reply, ""

    def _judge(self, row: Claimed, person: Recipient, delivery: Delivery, pacer: Pacer) -> None:
        now = self.clock.now()
        tried = row.attempts + 1
        if delivery.status == Status.SENT:
            self._pending.sent.append((row.id, now))
            self.stats.sent += 1
        elif delivery.status == Status.RETRY and delivery.retry_after is not None:
            # Flood control: the platform did not look at the message. Pause the whole
            # channel, and try this row again after the wait without using an attempt.
            pacer.pause(delivery.retry_after)
            due = now + timedelta(seconds=delivery.retry_after)
            reason = f"rate limited: retry after {delivery.retry_after:g} s"
            self._pending.release.append((row.id, due, delivery.error or reason))
            self.stats.rate_limited += 1
        elif delivery.status == Status.RETRY:
            self._retry(row, delivery.error or "temporary failure")
        elif delivery.status == Status.UNREACHABLE:
            self._final(row, UNREACHABLE, tried, delivery.error or "the person blocked the bot")
            self._pending.unreachable.append((person.id, now))
        else:
            self._final(row, FAILED, tried, delivery.error or "the platform refused it")

    def _retry(self, row: Claimed, error: str) -> None:
        attempts = row.attempts + 1
        budget = self.max_attempts or retry.attempt_budget(row.kind, row.urgent)
        if attempts >= budget:
            self._final(row, DEAD, attempts, f"gave up after {attempts} attempts: {error}")
            return
        delay = retry.backoff(attempts, self.backoff, self.max_backoff)
        self._pending.retry.append((row.id, self.clock.now() + delay, attempts, error))
        self.stats.retried += 1

    def _release(self, row: Claimed, due: datetime, reason: str) -> None:
        """Back to the queue without using an attempt (stopping, waiting for the rate)."""
        self._pending.release.append((row.id, due, reason))
        self.stats.released += 1

    def _final(self, row: Claimed, status: str, attempts: int, reason: str) -> None:
        self._pending.final.append((row.id, status, attempts, reason))
        counter = {CANCELLED: "cancelled", DEAD: "dead", UNREACHABLE: "unreachable"}
        field = counter.get(status, "failed")
        setattr(self.stats, field, getattr(self.stats, field) + 1)

    # ---- recording -------------------------------------------------------------------

    async def _record_loop(self) -> None:
        while True:
            await self._result_ready.wait()
            self._result_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        results, self._pending = self._pending, Results()
        if not len(results):
            return
        done = len(results.sent) + len(results.retry) + len(results.release) + len(results.final)
        for attempt in range(5):
            try:
                async with self.db.transaction() as session:
                    await outbox.record(session, self.owner, results)
                break
            except Exception:
                if attempt == 4:
                    log.exception("outbox: could not record %d results; leases will expire", done)
                    break
                log.warning("outbox: recording results failed, trying again", exc_info=True)
                await asyncio.sleep(0.5 * (attempt + 1))
        self._outstanding -= done
        self._recorded.set()


def _why_not(person: Recipient | None, reply: bool = False) -> str | None:
    if person is None:
        return "the person is gone"
    if person.opted_out_at is not None:
        return "the person stopped the messages (/stop)"
    if person.unreachable_at is not None:
        return "the person cannot be reached"
    if person.consented_at is None and not reply:
        return "the person has not consented"
    return None
