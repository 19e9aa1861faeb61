"""Queueing: dedupe keys, validation, cancelling, progress, and /forget taking rows along."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import outbox
from bot.app import App
from bot.delivery.clock import ManualClock
from bot.privacy import erasure
from bot.storage.models import OutboxMessage
from tests.delivery.conftest import RecordingSender, add_people, dispatcher_for, rows


async def test_enqueue_and_dedupe(app: App, clock: ManualClock) -> None:
    (ada,) = await add_people(app, 1)
    async with app.database.transaction() as session:
        first = await outbox.enqueue(
            session, ada.id, "reminder", outbox.text("Tot morgen!"), dedupe_key="reminder24:7:1"
        )
        again = await outbox.enqueue(
            session, ada.id, "reminder", outbox.text("Tot morgen!"), dedupe_key="reminder24:7:1"
        )
        other = await outbox.enqueue(session, ada.id, "notice", outbox.text("Hallo"), urgent=True)
    assert first is not None and other is not None
    assert again is None
    queued = await rows(app)
    assert [(r.kind, r.status, r.channel, r.attempts) for r in queued] == [
        ("reminder", "queued", "test", 0),
        ("notice", "queued", "test", 0),
    ]
    assert queued[1].urgent


async def test_enqueue_many_counts_only_new_rows(app: App, clock: ManualClock) -> None:
    people = await add_people(app, 3)
    items = [
        outbox.Item(
            p.id, "invitation", outbox.text("Kom je?"), batch_id="b1", dedupe_key=f"i:{p.id}"
        )
        for p in people
    ]
    async with app.database.transaction() as session:
        assert await outbox.enqueue_many(session, items, now=clock.now()) == 3
    async with app.database.transaction() as session:
        assert await outbox.enqueue_many(session, items, now=clock.now()) == 0
        progress = await outbox.broadcast_progress(session, "b1")
    assert progress.total == 3 and progress.queued == 3 and not progress.done
    assert progress.next_due == clock.now()


async def test_enqueue_refuses_nonsense(app: App) -> None:
    (ada,) = await add_people(app, 1)
    async with app.database.transaction() as session:
        with pytest.raises(ValueError, match="kind"):
            await outbox.enqueue(session, ada.id, "spam", outbox.text("x"))
        with pytest.raises(ValueError, match="content type"):
            await outbox.enqueue(session, ada.id, "notice", {"type": "html"})
        with pytest.raises(ValueError, match="participant"):
            await outbox.enqueue(session, ada.id + 99, "notice", outbox.text("x"))


async def test_cancel_by_dedupe_prefix_and_batch(app: App) -> None:
    ada, bo = await add_people(app, 2)
    async with app.database.transaction() as session:
        await outbox.enqueue(
            session, ada.id, "reminder", outbox.text("a"), dedupe_key="reminder24:7:1"
        )
        await outbox.enqueue(
            session, bo.id, "reminder", outbox.text("b"), dedupe_key="reminder2:7:2"
        )
        await outbox.enqueue(
            session, bo.id, "reminder", outbox.text("c"), dedupe_key="reminder2:17:2"
        )
        await outbox.enqueue(session, ada.id, "broadcast", outbox.text("d"), batch_id="b9")
    async with app.database.transaction() as session:
        assert (
            await outbox.cancel(session, "activity called off", dedupe_prefix="reminder2:7:") == 1
        )
        assert await outbox.cancel(session, "worker stopped it", batch_id="b9") == 1
        with pytest.raises(ValueError):
            await outbox.cancel(session, "everything")
    assert [r.status for r in await rows(app)] == ["queued", "cancelled", "queued", "cancelled"]


async def test_forget_removes_scheduled_messages(app: App, clock: ManualClock) -> None:
    ada, bo = await add_people(app, 2)
    async with app.database.transaction() as session:
        for person in (ada, bo):
            await outbox.enqueue(
                session,
                person.id,
                "followup",
                outbox.flow("checkin"),
                due_at=clock.now() + timedelta(days=14),
            )
    async with app.database.transaction() as session:
        await erasure.erase_person(session, ada.id)
    async with app.database.transaction() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.participant_id == ada.id)
        )
    assert left == 0
    assert [r.participant_id for r in await rows(app)] == [bo.id]


async def test_text_in_the_persons_language(
    app: App, clock: ManualClock, sender: RecordingSender
) -> None:
    (ada,) = await add_people(app, 1, language="tr")
    (bo,) = await add_people(app, 1, language="pl", prefix="p")
    message = {"nl": "Kom je zaterdag?", "tr": "Cumartesi geliyor musun?"}
    async with app.database.transaction() as session:
        await outbox.enqueue(session, ada.id, "invitation", outbox.text(message), now=clock.now())
        await outbox.enqueue(session, bo.id, "invitation", outbox.text(message), now=clock.now())
    await dispatcher_for(app, sender, clock).run_once()
    texts = {a.user_id: a.texts for a in sender.attempts}
    assert texts == {"u0": ["Cumartesi geliyor musun?"], "p0": ["Kom je zaterdag?"]}
    assert {r.status for r in await rows(app)} == {"sent"}
    assert all(r.sent_at == clock.now() or r.sent_at <= clock.now() for r in await rows(app))
