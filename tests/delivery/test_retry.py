"""An outage does not lose messages: a broadcast keeps trying for a day, replies and
urgent notices stop after an hour, and `buurtbot outbox retry` puts dead rows back."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
from bot.app import App
from bot.delivery import retry
from bot.delivery.clock import ManualClock
from bot.delivery.sender import Delivery, Status
from bot.storage.models import utcnow
from tests.community.helpers import cli
from tests.delivery.conftest import RecordingSender, add_people, dispatcher_for, rows

OUTAGE = Delivery(Status.RETRY, error="502 Bad Gateway")


def test_the_documented_numbers() -> None:
    assert retry.attempt_budget("broadcast", urgent=False) == 32
    assert retry.attempt_budget("invitation", urgent=False) == 32
    assert retry.attempt_budget("notice", urgent=True) == 8
    assert retry.attempt_budget("reply", urgent=True) == 8
    assert retry.trying_for(32) >= timedelta(days=1)
    assert timedelta(hours=1) <= retry.trying_for(8) < timedelta(hours=2)


async def run_outage(app: App, clock: ManualClock, sender: RecordingSender) -> dict[int, object]:
    """Run the dispatcher through an outage until nothing is queued; when each row died."""
    dispatcher = dispatcher_for(app, sender, clock)
    died: dict[int, object] = {}
    for _ in range(200):
        await dispatcher.run_once()
        found = await rows(app)
        for row in found:
            if row.status == "dead" and row.id not in died:
                died[row.id] = clock.now()
        waiting = [row.due_at for row in found if row.status == "queued"]
        if not waiting:
            return died
        clock.set(max(clock.now(), min(waiting)))
    raise AssertionError("the outage never ended")


async def test_a_broadcast_outlives_a_day_long_outage_replies_do_not(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    ada, bo, cy = await add_people(app, 3)
    start = clock.now()
    async with app.database.transaction() as session:
        poll = await outbox.enqueue(
            session, ada.id, "broadcast", outbox.flow("checkin"), batch_id="b1", now=start
        )
        notice = await outbox.enqueue(
            session, bo.id, "notice", outbox.text("Nieuw idee"), urgent=True, now=start
        )
        reply = await outbox.enqueue(
            session,
            cy.id,
            "reply",
            outbox.text("Dank je"),
            urgent=True,
            expires_at=start + timedelta(hours=1),
            now=start,
        )
    for user in ("u0", "u1", "u2"):
        sender.always[user] = OUTAGE
    died = await run_outage(app, clock, sender)
    by_id = {row.id: row for row in await rows(app)}
    assert by_id[notice].status == "dead" and by_id[notice].attempts == 8
    assert died[notice] - start < timedelta(hours=2)
    assert by_id[reply].status in ("dead", "cancelled")  # its hour ran out either way
    assert by_id[poll].status == "dead" and by_id[poll].attempts == 32
    assert died[poll] - start >= timedelta(days=1)
    assert by_id[poll].last_error == "gave up after 32 attempts: 502 Bad Gateway"


async def test_outbox_retry_puts_dead_rows_back_after_an_outage(app: App) -> None:
    clock = ManualClock(utcnow())
    sender = RecordingSender(clock)
    ada, bo = await add_people(app, 2)
    async with app.database.transaction() as session:
        for person, batch in ((ada, "poll-1"), (bo, "poll-2")):
            await outbox.enqueue(
                session,
                person.id,
                "broadcast",
                outbox.text("Hoe gaat het?"),
                batch_id=batch,
                now=clock.now(),
            )
    sender.always.update({"u0": OUTAGE, "u1": OUTAGE})
    await run_outage(app, clock, sender)
    assert {row.status for row in await rows(app)} == {"dead"}

    # Telegram is back. One broadcast first, by its batch id.
    sender.always.clear()
    result = await cli(app, "outbox", "retry", "--batch", "poll-1")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "1"
    again = await rows(app, batch_id="poll-1")
    assert [(r.status, r.attempts) for r in again] == [("queued", 0)]
    # Then everything else.
    result = await cli(app, "outbox", "retry")
    assert result.exit_code == 0 and "1 dead messages put back in the queue" in result.output
    before = len(sender.attempts)
    await dispatcher_for(app, sender, clock).run_once()
    assert {(row.batch_id, row.status) for row in await rows(app)} == {
        ("poll-1", "sent"),
        ("poll-2", "sent"),
    }
    assert len(sender.attempts) == before + 2


async def test_expired_dead_rows_stay_dead(app: App, clock: ManualClock) -> None:
    (ada,) = await add_people(app, 1)
    async with app.database.transaction() as session:
        await outbox.enqueue(
            session,
            ada.id,
            "reply",
            outbox.text("te laat"),
            urgent=True,
            expires_at=utcnow() - timedelta(minutes=1),
            now=utcnow() - timedelta(hours=2),
        )
    async with app.database.transaction() as session:
        (row,) = await rows(app)
        stored = await session.get(type(row), row.id)
        assert stored is not None
        stored.status = "dead"
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    result = await cli(app, "outbox", "retry", "--since", since)
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1] == "0"
    assert [r.status for r in await rows(app)] == ["dead"]
