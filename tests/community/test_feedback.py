"""Feedback after an activity: who gets it and when, and its scores in reports.

The journey itself (RSVP over Telegram and Signal, the day after, answering) is in
tests/journeys/test_residents.py; here the rules around it: the weekly limit, quiet
hours, and the report.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine

from bot import outbox
from bot.app import App, build
from bot.community.feedback import queue_feedback
from bot.delivery.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.reports.aggregate import Scope, aggregate
from bot.reports.report import write_report
from bot.storage.db import sync_url
from bot.storage.models.community import GOING, Activity, Rsvp
from tests.conftest import make_settings
from tests.delivery.conftest import RecordingSender, add_people, rows
from tests.helpers import Person

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Saturday 7 March 2026, 14:00 in Amsterdam; the feedback may come from Sunday 10:00.
STARTS = datetime(2026, 3, 7, 14, 0, tzinfo=AMSTERDAM).astimezone(UTC)
SUNDAY = datetime.combine(datetime(2026, 3, 8).date(), time(10, 5), tzinfo=AMSTERDAM)


async def activity_with_going(app: App, count: int) -> list[int]:
    """Yesterday's activity with `count` people going; their participant ids."""
    people = await add_people(app, count, language="en")
    async with app.database.transaction() as session:
        activity = Activity(
            title={"en": "Neighbourhood barbecue"},
            description={},
            starts_at=STARTS,
            neighbourhoods=["kerkelanden"],
        )
        session.add(activity)
        await session.flush()
        for person in people:
            session.add(Rsvp(activity_id=activity.id, participant_id=person.id, answer=GOING))
    return [p.id for p in people]


async def test_feedback_counts_towards_the_weekly_limit(app: App) -> None:
    [ada] = await activity_with_going(app, 1)
    clock = ManualClock(SUNDAY.astimezone(UTC) - timedelta(days=2))
    sender = RecordingSender(clock)
    dispatcher = Dispatcher(app, [sender], clock)
    async with app.database.transaction() as session:
        for n in range(app.settings.weekly_broadcast_limit):
            await outbox.enqueue(
                session, ada, "invitation", outbox.text(f"Invitation {n}"), now=clock.now()
            )
    assert (await dispatcher.run_once()).sent == app.settings.weekly_broadcast_limit
    clock.set(SUNDAY.astimezone(UTC))
    assert await queue_feedback(app.parts, clock.now()) == 1
    assert (await dispatcher.run_once()).sent == 0
    [row] = await rows(app, kind="feedback")
    assert row.status == "cancelled" and "weekly limit" in (row.last_error or "")


async def test_feedback_waits_for_the_end_of_quiet_hours(database_url: str, tmp_path: Path) -> None:
    app = build(make_settings(database_url, tmp_path, quiet_hours="10:00-12:00"))
    try:
        await quiet_hours_hold_it(app)
    finally:
        await app.close()


async def quiet_hours_hold_it(app: App) -> None:
    await activity_with_going(app, 2)
    clock = ManualClock(SUNDAY.astimezone(UTC))
    sender = RecordingSender(clock)
    dispatcher = Dispatcher(app, [sender], clock)
    assert await queue_feedback(app.parts, clock.now()) == 2
    assert await queue_feedback(app.parts, clock.now()) == 0  # once a person
    await dispatcher.run_once()
    assert sender.attempts == []
    clock.set(datetime.combine(SUNDAY.date(), time(12, 0), tzinfo=AMSTERDAM).astimezone(UTC))
    await dispatcher.run_once()
    assert len(sender.attempts) == 2
    assert all('Yesterday was "Neighbourhood barbecue"' in a.texts[0] for a in sender.attempts)


async def test_no_feedback_before_10_or_two_days_later(app: App) -> None:
    await activity_with_going(app, 1)
    early = datetime.combine(SUNDAY.date(), time(9, 55), tzinfo=AMSTERDAM)
    assert await queue_feedback(app.parts, early.astimezone(UTC)) == 0
    monday = SUNDAY + timedelta(days=1)
    assert await queue_feedback(app.parts, monday.astimezone(UTC)) == 0
    assert await rows(app) == []


async def test_feedback_scores_are_in_the_report(app: App, tmp_path: Path) -> None:
    ids = await activity_with_going(app, 6)
    for number, participant_id in enumerate(ids):
        person = Person(app.service, channel="test", user_id=f"u{number}")
        person.last = await app.service.start_flow_for(participant_id, "feedback")
        await person.pick("yes")
        await person.say(str(4 + number % 2))  # 4 or 5
        await person.pick("skip")
        await person.pick("no")
    engine = create_engine(sync_url(app.settings.database_url))
    try:
        with engine.connect() as connection:
            results = aggregate(
                connection,
                library=app.library,
                deployment=app.deployment,
                translator=app.service.catalogs("en"),
                scope=Scope(),
            )
    finally:
        engine.dispose()
    [feedback] = [f for f in results.flows if f.flow_id == "feedback"]
    assert any("How was it?" in table.title for table in feedback.questions)
    write_report(results, tmp_path / "report", app.service.catalogs("en"), title="Results")
    assert "How was it?" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
