"""Sending: pacing, 429 / 5xx / 403 handling, and who is skipped at send time."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from sqlalchemy import update

from bot import outbox
from bot.app import App
from bot.delivery.clock import ManualClock
from bot.delivery.sender import Delivery, Status
from bot.storage.models import Conversation, OutboxMessage, Participant
from tests.delivery.conftest import START, RecordingSender, add_people, dispatcher_for, rows


async def queue(app: App, people, kind: str = "broadcast", **kw) -> None:
    async with app.database.transaction() as session:
        for person in people:
            await outbox.enqueue(
                session, person.id, kind, outbox.text(f"hallo {person.id}"), now=START, **kw
            )


async def test_global_rate_is_held(app: App, clock: ManualClock, sender: RecordingSender) -> None:
    sender.rate = 10
    people = await add_people(app, 30)
    await queue(app, people)
    stats = await dispatcher_for(app, sender, clock).run_once()
    assert stats.sent == 30
    times = [a.at for a in sender.attempts]
    # Evenly spaced at (a little under) 10 a second: no second holds more than 10.
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1.0) <= 10
    assert times[-1] - times[0] >= 29 / 10
    assert sorted(sender.delivered) == sorted(f"u{n}" for n in range(30))


async def test_one_message_a_second_per_chat(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    sender.per_chat_interval = 1.0
    ada, bo = await add_people(app, 2)
    await queue(app, [ada, ada, ada, bo])
    await dispatcher_for(app, sender, clock).run_once()
    to_ada = [a.at for a in sender.attempts if a.user_id == "u0"]
    assert len(to_ada) == 3
    assert all(later - earlier >= 1.0 for earlier, later in pairwise(to_ada))
    # Only Ada's chat waits: everything is out after her two gaps.
    assert max(a.at for a in sender.attempts) - min(a.at for a in sender.attempts) < 2.1


async def test_429_waits_retry_after_and_slows_the_channel(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    people = await add_people(app, 6)
    await queue(app, people)
    sender.answer("u2", Delivery(Status.RETRY, retry_after=5, error="429 Too Many Requests"))
    dispatcher = dispatcher_for(app, sender, clock, batch_size=2)
    await dispatcher.run_once()
    limited = next(a for a in sender.attempts if a.user_id == "u2")
    after = [a for a in sender.attempts if a.at > limited.at]
    assert after, "the rest is sent after the pause"
    # After the 429 nothing went out on the channel for retry_after seconds.
    assert all(a.at >= limited.at + 5 for a in after)
    # The limited row was tried again, and a rate limit does not use up an attempt.
    assert sender.delivered.count("u2") == 2
    assert {r.status for r in await rows(app)} == {"sent"}
    retried = (await rows(app, participant_id=people[2].id))[0]
    assert retried.attempts == 1
    assert dispatcher.pacers["test"].pauses == 1


async def test_long_retry_after_releases_rows_instead_of_holding_them(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    people = await add_people(app, 3)
    await queue(app, people)
    sender.answer("u0", Delivery(Status.RETRY, retry_after=60, error="429"))
    dispatcher = dispatcher_for(app, sender, clock, batch_size=1)
    stats = await dispatcher.run_once()
    assert stats.rate_limited == 1 and stats.sent == 0
    assert {r.status for r in await rows(app)} == {"queued"}
    assert (await rows(app))[0].due_at == START + timedelta(seconds=60)
    clock.advance(60)
    await dispatcher.run_once()
    assert {r.status for r in await rows(app)} == {"sent"}


async def test_5xx_backs_off_exponentially_then_dead_letter(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1)
    await queue(app, [ada], kind="notice")
    sender.always["u0"] = Delivery(Status.RETRY, error="502 Bad Gateway")
    dispatcher = dispatcher_for(app, sender, clock, max_attempts=8)
    waits = []
    for _ in range(8):
        await dispatcher.run_once()
        (row,) = await rows(app)
        if row.status != "queued":
            break
        waits.append((row.due_at - clock.now()).total_seconds())
        clock.set(row.due_at)
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    (row,) = await rows(app)
    assert row.status == "dead"
    assert row.attempts == 8
    assert row.last_error == "gave up after 8 attempts: 502 Bad Gateway"
    assert len(sender.attempts) == 8


async def test_403_marks_unreachable_and_cancels_the_rest(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    ada, bo = await add_people(app, 2)
    await queue(app, [ada, bo], kind="notice")
    async with app.database.transaction() as session:
        later = START + timedelta(days=2)
        await outbox.enqueue(session, ada.id, "followup", outbox.flow("checkin"), due_at=later)
        await outbox.enqueue(session, ada.id, "reminder", outbox.text("morgen"), due_at=later)
    sender.answer(
        "u0", Delivery(Status.UNREACHABLE, error="Forbidden: bot was blocked by the user")
    )
    await dispatcher_for(app, sender, clock).run_once()
    mine = await rows(app, participant_id=ada.id)
    assert [r.status for r in mine] == ["unreachable", "cancelled", "cancelled"]
    assert mine[0].last_error == "Forbidden: bot was blocked by the user"
    assert [r.status for r in await rows(app, participant_id=bo.id)] == ["sent"]
    async with app.database.transaction() as session:
        assert (await session.get(Participant, ada.id)).unreachable_at is not None
        assert (await session.get(Participant, bo.id)).unreachable_at is None
    assert sender.delivered.count("u0") == 1


async def test_failed_is_not_retried(app: App, clock: ManualClock, sender: RecordingSender) -> None:
    (ada,) = await add_people(app, 1)
    await queue(app, [ada], kind="notice")
    sender.answer("u0", Delivery(Status.FAILED, error="Bad Request: message is too long"))
    dispatcher = dispatcher_for(app, sender, clock)
    await dispatcher.run_once()
    clock.advance(timedelta(days=1))
    await dispatcher.run_once()
    (row,) = await rows(app)
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        1,
        "Bad Request: message is too long",
    )
    assert len(sender.attempts) == 1


async def test_opted_out_unreachable_and_unconsented_are_skipped(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    stopped = (await add_people(app, 1, prefix="stop", opted_out_at=START))[0]
    blocked = (await add_people(app, 1, prefix="gone", unreachable_at=START))[0]
    unasked = (await add_people(app, 1, prefix="new", consented=False))[0]
    fine = (await add_people(app, 1, prefix="ok"))[0]
    await queue(app, [stopped, blocked, unasked, fine], kind="followup")
    stats = await dispatcher_for(app, sender, clock).run_once()
    assert sender.delivered == ["ok0"]
    assert stats.cancelled == 3
    reasons = {r.participant_id: (r.status, r.last_error) for r in await rows(app)}
    assert reasons[stopped.id] == ("cancelled", "the person stopped the messages (/stop)")
    assert reasons[blocked.id] == ("cancelled", "the person cannot be reached")
    assert reasons[unasked.id] == ("cancelled", "the person has not consented")
    assert reasons[fine.id] == ("sent", None)


async def test_a_person_who_stops_after_queueing_gets_nothing(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1)
    await queue(app, [ada])
    async with app.database.transaction() as session:
        await session.execute(
            update(Participant).where(Participant.id == ada.id).values(opted_out_at=START)
        )
    await dispatcher_for(app, sender, clock).run_once()
    assert sender.attempts == []


async def test_flow_rows_start_the_flow_once_even_when_retried(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1, language="en")
    async with app.database.transaction() as session:
        await outbox.enqueue(session, ada.id, "followup", outbox.flow("checkin"), now=START)
    sender.answer("u0", Delivery(Status.RETRY, error="timed out"))
    dispatcher = dispatcher_for(app, sender, clock)
    await dispatcher.run_once()
    (row,) = await rows(app)
    assert row.status == "queued" and row.conversation_id is not None
    clock.set(row.due_at)
    await dispatcher.run_once()
    (row,) = await rows(app)
    assert row.status == "sent"
    first, second = sender.attempts
    assert first.reply.conversation_id == second.reply.conversation_id == row.conversation_id
    assert "Two weeks ago" in first.texts[0]
    assert second.texts[-1] == "Do you want to join an activity in your neighbourhood?"
    async with app.database.transaction() as session:
        from sqlalchemy import func, select

        started = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.flow_id == "checkin")
        )
    assert started == 1


async def test_recover_requeues_rows_left_sending(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    people = await add_people(app, 3)
    await queue(app, people)
    async with app.database.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.participant_id != people[2].id)
            .values(status="sending", claimed_by="dead:1", claimed_at=START - timedelta(minutes=5))
        )
    dispatcher = dispatcher_for(app, sender, clock)
    assert await dispatcher.recover() == 2
    await dispatcher.run_once()
    assert sorted(sender.delivered) == ["u0", "u1", "u2"]


async def test_fresh_leases_of_another_process_are_left_alone_on_postgres(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    people = await add_people(app, 2)
    await queue(app, people)
    async with app.database.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.participant_id == people[0].id)
            .values(status="sending", claimed_by="alive:1", claimed_at=START)
        )
    dispatcher = dispatcher_for(app, sender, clock)
    recovered = await dispatcher.recover()
    # SQLite runs one dispatcher, so anything `sending` at start-up is an orphan.
    assert recovered == (1 if app.database.is_sqlite else 0)
    clock.advance(timedelta(minutes=3))
    assert await dispatcher.requeue_expired_leases() == (0 if app.database.is_sqlite else 1)
    await dispatcher.run_once()
    assert sorted(sender.delivered) == ["u0", "u1"]


async def test_expired_rows_are_cancelled_not_sent_late(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    ada, bo = await add_people(app, 2)
    starts = START + timedelta(hours=2)
    async with app.database.transaction() as session:
        for person in (ada, bo):
            await outbox.enqueue(
                session,
                person.id,
                "reminder",
                outbox.text("Over twee uur begint de barbecue!"),
                due_at=START,
                expires_at=starts,
                dedupe_key=f"reminder2:7:{person.id}",
            )
    sender.answer("u1", Delivery(Status.RETRY, error="502 Bad Gateway"))
    dispatcher = dispatcher_for(app, sender, clock, backoff=timedelta(hours=3))
    await dispatcher.run_once()
    clock.advance(timedelta(hours=3))
    await dispatcher.run_once()
    assert sender.delivered == ["u0", "u1"]
    late = (await rows(app, participant_id=bo.id))[0]
    assert (late.status, late.last_error) == (
        "cancelled",
        "too late: it expired before it could be sent",
    )
