"""APScheduler wiring: the dispatcher and the periodic jobs of `buurtbot run`.

An `AsyncIOScheduler` on the bot's event loop runs:

* `outbox-dispatch`, every second: starts a dispatcher pass unless one is running; a
  transaction that queues messages in this process also wakes it at once;
* `outbox-leases`, every 30 s: re-queues rows whose sending process died (lease expired);
* `conversation-reminders`, every 5 minutes: one gentle reminder for half-finished
  conversations (`bot.delivery.reminders`);
* `conversation-expiry`, every 15 minutes: expires conversations idle past their limit;
* `retention-purge`, hourly: `bot.privacy.retention.purge`;
* the jobs other parts register with `Extensions.every` (`activity-feedback`: the
  feedback flow the day after an activity).

Several processes on PostgreSQL: every process dispatches (the outbox is claimed row by
row, and the send rate is shared, `pacing`), but the other jobs run in one process only,
the leader of `JOBS` (`bot.storage.processes`); another takes over when it dies. A job
run in a process that does not lead is skipped. A job runs once an interval: its due
time is the start of the interval it runs in (counted from 1970, the same in every
process), and a process that took the lead during an interval leaves that interval's
due time to the leader before it (which may have run it just before it died) and runs
from the next. Each run is logged with its due time. `BUURTBOT_JOBS_EVERY` sets one
interval for all of them (seconds), to try the jobs out or test them.

Jobs keep no state of their own: what is due lives in the database (`outbox.due_at`,
`conversations.updated_at`), so jobs are in memory and a restart picks up where the last
run stopped. Each job coalesces missed runs and never runs twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import outbox
from bot.delivery import reminders
from bot.delivery.clock import SYSTEM, Clock
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.parts import DeliveryParts
from bot.delivery.sender import Sender
from bot.health import Health
from bot.privacy.retention import purge
from bot.storage.processes import JOBS

log = logging.getLogger(__name__)

JOB_GRACE = 30.0  # seconds a stop waits for a job under way


class DeliveryScheduler:
    """The running scheduler; `stop()` ends it (the runner calls it on shutdown)."""

    name = "scheduler"

    def __init__(
        self,
        app: DeliveryParts,
        senders: Iterable[Sender],
        clock: Clock = SYSTEM,
        *,
        dispatch_every: float = 1.0,
        reminders_every: timedelta = timedelta(minutes=5),
        expiry_every: timedelta = timedelta(minutes=15),
        retention_every: timedelta = timedelta(hours=1),
        dispatcher: Dispatcher | None = None,
        jobs_every: float | None = None,
    ):
        self.app = app
        self.clock = clock
        self.dispatcher = dispatcher or Dispatcher(app, senders, clock)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.dispatch_every = dispatch_every
        self._jobs_every = jobs_every
        if jobs_every:  # one interval for every periodic job (BUURTBOT_JOBS_EVERY)
            reminders_every = expiry_every = retention_every = timedelta(seconds=jobs_every)
        self.reminders_every = reminders_every
        self.expiry_every = expiry_every
        self.retention_every = retention_every
        self._unsubscribe = None
        self._every: dict[str, float] = {}
        self._last_due: dict[str, datetime] = {}  # the due time each job last ran for
        self._busy: set[asyncio.Task[object]] = set()  # job runs under way
        self.presence = app.presence
        self.presence.want(JOBS)

    @property
    def leads(self) -> bool:
        """Whether this process runs the periodic jobs (always, alone)."""
        return self.presence.leads(JOBS)

    async def start(self) -> DeliveryScheduler:
        await self.dispatcher.recover()
        now = datetime.now(UTC)
        self._every = {
            "conversation-reminders": self.reminders_every.total_seconds(),
            "conversation-expiry": self.expiry_every.total_seconds(),
            "retention-purge": self.retention_every.total_seconds(),
        }
        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        self.scheduler.add_job(
            self._dispatch,
            "interval",
            seconds=self.dispatch_every,
            id="outbox-dispatch",
            next_run_time=now,
            **defaults,
        )
        self.scheduler.add_job(self._leases, "interval", seconds=30, id="outbox-leases", **defaults)
        self.scheduler.add_job(
            self._reminders,
            "interval",
            seconds=self.reminders_every.total_seconds(),
            id="conversation-reminders",
            next_run_time=self._first(now, 5),
            **defaults,
        )
        self.scheduler.add_job(
            self._expiry,
            "interval",
            seconds=self.expiry_every.total_seconds(),
            id="conversation-expiry",
            next_run_time=self._first(now, 10),
            **defaults,
        )
        self.scheduler.add_job(
            self._retention,
            "interval",
            seconds=self.retention_every.total_seconds(),
            id="retention-purge",
            next_run_time=self._first(now, 30),
            **defaults,
        )
        for name, (interval, _job) in self.app.service.extensions.periodic_jobs.items():
            self._every[name] = self._jobs_every or interval.total_seconds()
            self.scheduler.add_job(
                self.run_job,
                "interval",
                args=[name],
                seconds=self._every[name],
                id=name,
                next_run_time=self._first(now, 15),
                **defaults,
            )
        self.scheduler.start()
        self._unsubscribe = outbox.on_enqueue(self.dispatcher.kick)
        channels = ", ".join(self.dispatcher.senders) or "no channel"
        log.info("scheduler started; the outbox sends through %s", channels)
        return self

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with contextlib.suppress(Exception):
            self.scheduler.pause()
        # A job under way ends first: cut off at the shutdown, it would stop halfway
        # through its transaction (and log the cancellation as an error).
        busy = [task for task in self._busy if not task.done()]
        if busy:
            await asyncio.wait(busy, timeout=JOB_GRACE)
        await self.dispatcher.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)

    def health(self) -> Health:
        if not self.scheduler.running:
            return Health(False, "stopped")
        return Health(True, "running" if self.leads else "running (sending; jobs run elsewhere)")

    # ---- the jobs --------------------------------------------------------------------

    def _first(self, now: datetime, seconds: float) -> datetime:
        """A job's first run: `seconds` after the start, sooner with BUURTBOT_JOBS_EVERY."""
        if self._jobs_every:
            seconds = min(seconds, self._jobs_every)
        return now + timedelta(seconds=seconds)

    def _runs(self, name: str) -> bool:
        """Whether this process runs the job now (it leads, and led when it was due)."""
        if not self.leads:
            return False
        every = self._every.get(name) or 1.0
        now = self.clock.now().timestamp()
        due = datetime.fromtimestamp(now - now % every, UTC)
        since = self.presence.leading_since(JOBS)
        if since is not None:  # shared with other processes: once an interval
            if due < since:
                log.debug("job %s: due %s, before this process led", name, due.isoformat())
                return False
            last = self._last_due.get(name)
            if last is not None and due <= last:
                # A run that came late (a busy machine) and the next one on time can fall
                # in one interval: that interval's run is done.
                log.debug("job %s: due %s, run already", name, due.isoformat())
                return False
            self._last_due[name] = due
        log.info("job %s: due %s, run by process %s", name, due.isoformat(), self.presence.id)
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
            task.add_done_callback(self._busy.discard)
        return True

    async def _dispatch(self) -> None:
        self.dispatcher.kick()

    async def _leases(self) -> None:
        if not self.leads:
            return
        count = await self.dispatcher.requeue_expired_leases()
        if count:
            log.warning("outbox: %d messages with an expired lease re-queued", count)

    async def _reminders(self) -> None:
        if self._runs("conversation-reminders"):
            await reminders.remind_idle(self.app, self.clock)

    async def _expiry(self) -> None:
        if self._runs("conversation-expiry"):
            await reminders.expire_idle(self.app, self.clock)

    async def run_job(self, name: str) -> None:
        """One run of a job another part registered (`Extensions.every`), at the clock's
        time, in the process that leads the jobs; its failure is logged and the next run
        comes as planned."""
        if not self._runs(name):
            return
        _, job = self.app.service.extensions.periodic_jobs[name]
        try:
            await job(self.app.parts, self.clock.now())
        except Exception:
            log.exception("scheduled job %s failed", name)

    async def _retention(self) -> None:
        if not self._runs("retention-purge"):
            return
        await purge(self.app.database, self.app.library, days=self.app.settings.retention_days)


async def start(
    app: DeliveryParts, senders: Iterable[Sender], clock: Clock = SYSTEM
) -> DeliveryScheduler:
    """Start delivery for `buurtbot run`; returns the running part (with `stop()`)."""
    every = app.settings.jobs_every
    return await DeliveryScheduler(app, list(senders), clock, jobs_every=every).start()
