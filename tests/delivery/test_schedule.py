"""What gets scheduled and when: follow-ups, reminders, expiry, quiet hours, the weekly cap."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot import outbox
from bot.app import App
from bot.delivery import reminders
from bot.delivery.clock import ManualClock
from bot.outbox.followups import schedule_followups
from bot.outbox.quiet_hours import QuietHours
from bot.storage.models import Answer, Conversation
from tests.delivery.conftest import START, RecordingSender, add_people, dispatcher_for, rows
from tests.helpers import Person

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM).astimezone(UTC)


# ---- follow-ups ----------------------------------------------------------------------


async def test_followup_is_sent_14_days_after_the_flow_ended(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1, language="en")
    started = await app.service.start_flow_for(ada.id, "what-matters")
    flow = app.library["what-matters"]
    wants = {"keep_informed": True}
    async with app.database.transaction() as session:
        queued = await schedule_followups(
            session, ada.id, flow, started.conversation_id, START, values=wants
        )
    assert len(queued) == 1
    async with app.database.transaction() as session:
        again = await schedule_followups(
            session, ada.id, flow, started.conversation_id, START, values=wants
        )
    assert again == [], "the same follow-up is never queued twice"
    (row,) = await rows(app)
    assert (row.kind, row.due_at, row.dedupe_key) == (
        "followup",
        START + timedelta(days=14),
        f"followup:{started.conversation_id}:checkin",
    )
    dispatcher = dispatcher_for(app, sender, clock)
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    await dispatcher.run_once()
    assert sender.attempts == []
    clock.advance(timedelta(seconds=1))
    await dispatcher.run_once()
    (attempt,) = sender.attempts
    assert attempt.texts[0].startswith("Hello! Two weeks ago you told us what matters to you.")
    (row,) = await rows(app)
    assert row.status == "sent" and row.conversation_id == attempt.reply.conversation_id


async def test_no_to_hearing_back_queues_no_checkin(app: App) -> None:
    (ada,) = await add_people(app, 1, language="en")
    flow = app.library["what-matters"]
    async with app.database.transaction() as session:
        for values in ({"keep_informed": False}, {"keep_informed": None}, {}):
            assert await schedule_followups(session, ada.id, flow, 1, START, values=values) == []
    assert await rows(app) == []


async def test_a_flow_without_followups_queues_nothing(app: App) -> None:
    (ada,) = await add_people(app, 1)
    async with app.database.transaction() as session:
        assert await schedule_followups(session, ada.id, app.library["checkin"], 1, START) == []


# ---- half-finished conversations ---------------------------------------------------------


async def idle_conversation(app: App, person_id: int, idle: timedelta, now: datetime) -> int:
    reply = await app.service.start_flow_for(person_id, "what-matters")
    async with app.database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == reply.conversation_id)
            .values(updated_at=now - idle)
        )
    assert reply.conversation_id is not None
    return reply.conversation_id


async def test_one_gentle_reminder_after_a_day(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    ada, bo = await add_people(app, 2, language="en")
    waiting = await idle_conversation(app, ada.id, timedelta(hours=25), clock.now())
    await idle_conversation(app, bo.id, timedelta(hours=23), clock.now())
    assert await reminders.remind_idle(app, clock) == 1
    assert await reminders.remind_idle(app, clock) == 0, "only one reminder"
    (row,) = await rows(app)
    assert (row.kind, row.urgent, row.participant_id) == ("nudge", False, ada.id)
    await dispatcher_for(app, sender, clock).run_once()
    (attempt,) = sender.attempts
    assert attempt.texts == [
        "You did not finish our questions. You can go on by answering the question below.",
        "Question 1 of 6\nWhat is good about your neighbourhood? What do you like?",
    ]
    assert attempt.reply.conversation_id == waiting
    async with app.database.transaction() as session:
        assert (await session.get(Conversation, waiting)).reminded_at == clock.now()
    # A day later Bo's conversation is idle long enough, Ada's was reminded already.
    clock.advance(timedelta(days=1))
    assert await reminders.remind_idle(app, clock) == 1


async def test_reminder_is_dropped_when_the_person_went_on(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1, language="en")
    await idle_conversation(app, ada.id, timedelta(days=2), clock.now())
    assert await reminders.remind_idle(app, clock) == 1
    await Person(app.service, "u0", channel="test").say("The park")
    await dispatcher_for(app, sender, clock).run_once()
    assert sender.attempts == []
    (row,) = await rows(app)
    assert (row.status, row.last_error) == ("cancelled", "the person went on with the conversation")


async def test_no_reminders_for_people_who_stopped_or_never_consented(
    app: App, clock: ManualClock
) -> None:
    (stopped,) = await add_people(app, 1, prefix="s", opted_out_at=START)
    (fresh,) = await add_people(app, 1, prefix="f", consented=False)
    for person in (stopped, fresh):
        await idle_conversation(app, person.id, timedelta(days=2), clock.now())
    assert await reminders.remind_idle(app, clock) == 0


async def test_reminders_wait_for_the_end_of_quiet_hours(
    make_app, clock: ManualClock, sender: RecordingSender
) -> None:
    app = make_app(quiet_hours="21:00-09:00")
    clock.set(local(2026, 3, 2, 22, 30))
    (ada,) = await add_people(app, 1, language="en")
    await idle_conversation(app, ada.id, timedelta(days=1, hours=1), clock.now())
    assert await reminders.remind_idle(app, clock) == 1
    (row,) = await rows(app)
    assert row.due_at == local(2026, 3, 3, 9, 0)
    dispatcher = dispatcher_for(app, sender, clock)
    clock.set(local(2026, 3, 3, 8, 59))
    await dispatcher.run_once()
    assert sender.attempts == []
    clock.set(local(2026, 3, 3, 9, 0))
    await dispatcher.run_once()
    assert len(sender.attempts) == 1


async def test_idle_conversations_expire_and_keep_their_answers(
    app: App, clock: ManualClock
) -> None:
    ada, bo = await add_people(app, 2, language="en")
    reply = await app.service.start_flow_for(ada.id, "what-matters")
    await Person(app.service, "u0", channel="test").say("The park")
    async with app.database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == reply.conversation_id)
            .values(updated_at=clock.now() - timedelta(days=7, seconds=1))
        )
    fresh = await idle_conversation(app, bo.id, timedelta(days=6), clock.now())
    assert await reminders.expire_idle(app, clock) == 1
    async with app.database.transaction() as session:
        assert (await session.get(Conversation, reply.conversation_id)).status == "expired"
        assert (await session.get(Conversation, fresh)).status == "active"
        kept = await session.scalar(
            select(func.count()).select_from(Answer).where(Answer.participant_id == ada.id)
        )
    assert kept == 1
    assert await reminders.expire_idle(app, clock) == 0


# ---- quiet hours -----------------------------------------------------------------------


def test_quiet_window_across_midnight() -> None:
    quiet = QuietHours(time(21), time(9), AMSTERDAM)
    assert quiet.until(local(2026, 3, 2, 20, 59)) is None
    assert quiet.until(local(2026, 3, 2, 21, 0)) == local(2026, 3, 3, 9, 0)
    assert quiet.until(local(2026, 3, 2, 23, 59)) == local(2026, 3, 3, 9, 0)
    assert quiet.until(local(2026, 3, 3, 0, 30)) == local(2026, 3, 3, 9, 0)
    assert quiet.until(local(2026, 3, 3, 8, 59)) == local(2026, 3, 3, 9, 0)
    assert quiet.until(local(2026, 3, 3, 9, 0)) is None
    # The night summer time starts: 09:00 is 07:00 UTC, not 08:00.
    assert quiet.until(local(2026, 3, 28, 22, 0)) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_quiet_window_within_a_day() -> None:
    quiet = QuietHours(time(12, 30), time(13, 30), AMSTERDAM)
    assert quiet.until(local(2026, 3, 2, 12, 0)) is None
    assert quiet.until(local(2026, 3, 2, 13, 0)) == local(2026, 3, 2, 13, 30)
    assert quiet.until(local(2026, 3, 2, 13, 30)) is None


async def test_quiet_hours_hold_non_urgent_messages_until_morning(
    make_app, clock: ManualClock, sender: RecordingSender
) -> None:
    app = make_app(quiet_hours="21:00-09:00")
    clock.set(local(2026, 3, 2, 23, 15))
    ada, worker = await add_people(app, 2)
    async with app.database.transaction() as session:
        await outbox.enqueue(session, ada.id, "broadcast", outbox.text("BBQ!"), now=clock.now())
        await outbox.enqueue(
            session, worker.id, "notice", outbox.text("New proposal"), urgent=True, now=clock.now()
        )
    dispatcher = dispatcher_for(app, sender, clock)
    stats = await dispatcher.run_once()
    assert sender.delivered == ["u1"], "urgent messages ignore quiet hours"
    assert stats.claimed == 1, "held rows are not claimed (no polling through the night)"
    held = (await rows(app, participant_id=ada.id))[0]
    assert (held.status, held.due_at) == ("queued", local(2026, 3, 3, 9, 0))
    clock.set(local(2026, 3, 3, 3, 0))
    assert (await dispatcher.run_once()).claimed == 0
    clock.set(local(2026, 3, 3, 9, 0))
    await dispatcher.run_once()
    assert sender.delivered == ["u1", "u0"]
    assert sender.attempts[-1].when == local(2026, 3, 3, 9, 0)


async def test_enqueue_with_quiet_hours_shows_the_real_due_time(make_app) -> None:
    app = make_app(quiet_hours="21:00-09:00")
    (ada,) = await add_people(app, 1)
    quiet = QuietHours.from_settings(app.settings)
    async with app.database.transaction() as session:
        await outbox.enqueue(
            session,
            ada.id,
            "followup",
            outbox.flow("checkin"),
            due_at=local(2026, 3, 16, 21, 30),
            quiet=quiet,
        )
        await outbox.enqueue(
            session,
            ada.id,
            "notice",
            outbox.text("urgent"),
            due_at=local(2026, 3, 16, 21, 30),
            urgent=True,
            quiet=quiet,
        )
    assert [r.due_at for r in await rows(app)] == [
        local(2026, 3, 17, 9, 0),
        local(2026, 3, 16, 21, 30),
    ]


# ---- weekly cap ------------------------------------------------------------------------


async def test_weekly_cap_on_broadcasts_and_invitations(
    make_app, clock: ManualClock, sender: RecordingSender
) -> None:
    app = make_app(weekly_broadcast_limit=2)
    ada, bo = await add_people(app, 2)
    async with app.database.transaction() as session:
        for kind in ("broadcast", "invitation", "broadcast"):
            await outbox.enqueue(session, ada.id, kind, outbox.text(kind), now=clock.now())
        await outbox.enqueue(session, ada.id, "followup", outbox.text("f"), now=clock.now())
        await outbox.enqueue(session, bo.id, "broadcast", outbox.text("b"), now=clock.now())
    dispatcher = dispatcher_for(app, sender, clock)
    await dispatcher.run_once()
    assert [(r.kind, r.status) for r in await rows(app, participant_id=ada.id)] == [
        ("broadcast", "sent"),
        ("invitation", "sent"),
        ("broadcast", "cancelled"),
        ("followup", "sent"),
    ]
    capped = (await rows(app, participant_id=ada.id))[2]
    assert capped.last_error == "weekly limit reached: 2 broadcasts or invitations a week"
    assert [r.status for r in await rows(app, participant_id=bo.id)] == ["sent"]

    async def invite() -> str:
        async with app.database.transaction() as session:
            row = await outbox.enqueue(
                session, ada.id, "invitation", outbox.text("i"), now=clock.now()
            )
        await dispatcher.run_once()
        return next(r.status for r in await rows(app) if r.id == row)

    clock.advance(timedelta(days=6, hours=23))
    assert await invite() == "cancelled", "the week is rolling"
    clock.advance(timedelta(hours=1))
    assert await invite() == "sent"
