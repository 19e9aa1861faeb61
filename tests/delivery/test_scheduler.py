"""The APScheduler wiring of `buurtbot run`, and `buurtbot outbox status`."""

from __future__ import annotations

import asyncio
import time

from bot import outbox
from bot.app import App
from bot.delivery.clock import SYSTEM
from bot.delivery.scheduler import DeliveryScheduler, start
from tests.delivery.conftest import RecordingSender, add_people, rows


async def wait_for(condition, timeout: float = 5.0) -> float:
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
    return time.monotonic() - began


async def test_scheduler_sends_what_was_due_before_it_started(app: App) -> None:
    people = await add_people(app, 3)
    async with app.database.transaction() as session:
        for person in people:
            await outbox.enqueue(session, person.id, "broadcast", outbox.text("hoi"))
    sender = RecordingSender(SYSTEM)  # type: ignore[arg-type]
    running = await start(app, [sender])
    try:
        await wait_for(lambda: len(sender.attempts) == 3)
        jobs = {job.id for job in running.scheduler.get_jobs()}
        assert jobs == {
            "outbox-dispatch",
            "outbox-leases",
            "conversation-reminders",
            "conversation-expiry",
            "retention-purge",
            "activity-feedback",  # registered by community (Extensions.every)
        }
        assert all(job.max_instances == 1 and job.coalesce for job in running.scheduler.get_jobs())
    finally:
        await running.stop()
    assert not running.scheduler.running
    assert {r.status for r in await rows(app)} == {"sent"}


async def test_enqueue_wakes_the_dispatcher_at_once(app: App) -> None:
    (ada,) = await add_people(app, 1)
    sender = RecordingSender(SYSTEM)  # type: ignore[arg-type]
    running = await DeliveryScheduler(app, [sender], dispatch_every=60).start()
    try:
        await asyncio.sleep(0.2)  # the first pass at start-up found nothing
        async with app.database.transaction() as session:
            await outbox.enqueue(session, ada.id, "notice", outbox.text("Nieuw voorstel"))
        waited = await wait_for(lambda: len(sender.attempts) == 1, timeout=5)
        assert waited < 2, "woken by the commit, not by the next minute's tick"
    finally:
        await running.stop()
    # Stopped: queueing no longer calls into the stopped dispatcher.
    async with app.database.transaction() as session:
        await outbox.enqueue(session, ada.id, "notice", outbox.text("Nog een"))


async def test_stop_lets_sends_in_flight_finish(app: App) -> None:
    people = await add_people(app, 20)
    async with app.database.transaction() as session:
        for person in people:
            await outbox.enqueue(session, person.id, "broadcast", outbox.text("hoi"))
    sender = RecordingSender(SYSTEM, rate=20)  # type: ignore[arg-type]
    running = await start(app, [sender])
    await wait_for(lambda: len(sender.attempts) >= 3)
    await running.stop()
    statuses = [r.status for r in await rows(app)]
    assert "sending" not in statuses, "nothing left half-done"
    assert statuses.count("sent") == len(sender.attempts)
    assert statuses.count("queued") == 20 - len(sender.attempts) > 0
