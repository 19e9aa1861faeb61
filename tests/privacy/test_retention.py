"""Retention: old answers lose their link to the person; old proposals, invitations,
RSVPs and finished outbox messages go; recent ones, unsent messages and activities stay."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select, update

from bot import outbox
from bot.app import App
from bot.community import rsvp
from bot.community.activities import create_activity
from bot.community.invitations import queue_invitations
from bot.community.proposals import send_for_review
from bot.privacy.retention import Purged, purge
from bot.storage import participants
from bot.storage.models import (
    Answer,
    Conversation,
    InboundReceipt,
    OutboxMessage,
    Participant,
    utcnow,
)
from bot.storage.models.community import (
    APPROVED,
    ASKING,
    DRAFT,
    GOING,
    MAYBE,
    NOT_GOING,
    Activity,
    ActivityOrganiser,
    Invitation,
    Proposal,
    ProposalNote,
    Rsvp,
)
from tests.helpers import Person
from tests.privacy.people import onboard

OLD_TEXT = "OldParkWalrus"
OLD_IDEA = "SkateRampOldIdea"


async def pid_of(app: App, user_id: str) -> int:
    async with app.database.transaction() as session:
        found = await participants.get(session, "test", user_id)
        assert found is not None
        return found.id


async def age(app: App, pid: int, days: int, conversations: bool = True) -> None:
    """Move a person's answers (and conversations) `days` into the past."""
    shift = timedelta(days=days)
    async with app.database.transaction() as session:
        for row in (
            (await session.execute(select(Answer).where(Answer.participant_id == pid)))
            .scalars()
            .all()
        ):
            row.created_at = row.created_at - shift
        if conversations:
            for row in (
                (
                    await session.execute(
                        select(Conversation).where(Conversation.participant_id == pid)
                    )
                )
                .scalars()
                .all()
            ):
                row.started_at = row.started_at - shift
                row.updated_at = row.updated_at - shift


def sqlite_bytes(app: App) -> bytes | None:
    """The SQLite database file and its write-ahead log, or None on PostgreSQL."""
    url = make_url(app.settings.database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = Path(url.database or "")
    wal = Path(f"{database}-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def nothing(result: Purged) -> bool:
    return result.changed == 0  # every count is zero (none is negative)


async def resident(app: App, user_id: str, role: str = "resident") -> int:
    """A consenting participant (no conversation needed for these rules)."""
    async with app.database.transaction() as session:
        person = Participant(
            channel="test",
            channel_user_id=user_id,
            language="en",
            neighbourhood="kerkelanden",
            age_group="12-17",
            role=role,
            consented_at=utcnow(),
            consent_version="1",
        )
        session.add(person)
        await session.flush()
        return person.id


async def all_rows(app: App, model: Any) -> list[Any]:
    async with app.database.transaction() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


async def answers_of(app: App, pid: int | None) -> list[Answer]:
    async with app.database.transaction() as session:
        stmt = select(Answer).order_by(Answer.id)
        stmt = stmt.where(
            Answer.participant_id.is_(None) if pid is None else Answer.participant_id == pid
        )
        return list((await session.execute(stmt)).scalars().all())


async def test_old_answers_are_anonymised_and_recent_ones_kept(app: App) -> None:
    old, new = Person(app.service, user_id="600000001"), Person(app.service, user_id="600000002")
    await onboard(old)
    await old.say(f"{OLD_TEXT} call 0611112222")
    await old.toggle("green")
    await onboard(new)
    await new.say("The new market")
    await new.toggle("sport")
    old_pid, new_pid = await pid_of(app, "600000001"), await pid_of(app, "600000002")
    before_old = await answers_of(app, old_pid)
    before_new = await answers_of(app, new_pid)
    await age(app, old_pid, app.settings.retention_days + 5)

    result = await purge(app.database, app.library, days=app.settings.retention_days)

    assert result.answers == len(before_old)
    assert result.free_texts == 1  # the "good" answer
    assert result.conversations == 2  # onboarding and what-matters of the old person
    assert await answers_of(app, old_pid) == []
    anonymous = await answers_of(app, None)
    assert len(anonymous) == len(before_old)
    by_step = {a.step_key: a for a in anonymous}
    assert all(a.conversation_id is None and a.raw is None for a in anonymous)
    assert by_step["good"].value is None  # free text goes: it could name someone
    assert by_step["change"].value == ["green"]  # counts stay
    assert by_step["change"].neighbourhood == "kerkelanden"
    # The recent person is untouched.
    after_new = await answers_of(app, new_pid)
    assert [(a.id, a.value, a.raw, a.conversation_id) for a in after_new] == [
        (a.id, a.value, a.raw, a.conversation_id) for a in before_new
    ]
    async with app.database.transaction() as session:
        assert await session.get(Participant, old_pid) is not None
        conversations = (await session.execute(select(Conversation))).scalars().all()
        assert {c.participant_id for c in conversations} == {new_pid}
        dumped = json.dumps(
            [c.state for c in conversations] + [a.value for a in anonymous], default=str
        )
    assert OLD_TEXT not in dumped

    data = sqlite_bytes(app)
    assert data is None or OLD_TEXT.encode() not in data

    again = await purge(app.database, app.library, days=app.settings.retention_days)
    assert nothing(again)


async def test_a_conversation_still_going_forgets_its_old_answers(app: App) -> None:
    person = Person(app.service, user_id="600000003")
    await onboard(person)
    await person.say(f"{OLD_TEXT} is nice")
    pid = await pid_of(app, "600000003")
    await age(app, pid, app.settings.retention_days + 1, conversations=False)
    async with app.database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.participant_id == pid)
            .values(updated_at=utcnow())
        )
    result = await purge(app.database, app.library, days=app.settings.retention_days)
    assert result.conversations == 0
    async with app.database.transaction() as session:
        states = [c.state for c in (await session.execute(select(Conversation))).scalars().all()]
    assert OLD_TEXT not in json.dumps(states)
    # The conversation goes on where it was.
    assert "What would you like to change?" in await person.say("/help")


async def test_nothing_to_do_changes_nothing(app: App) -> None:
    person = Person(app.service, user_id="600000004")
    await onboard(person)
    await person.say("Recent words")
    before = await answers_of(app, await pid_of(app, "600000004"))
    result = await purge(app.database, app.library, days=app.settings.retention_days)
    assert nothing(result)
    assert len(await answers_of(app, await pid_of(app, "600000004"))) == len(before)


def test_purged_keeps_its_old_shape() -> None:
    """Callers that build or read the first four fields keep working."""
    result = Purged(utcnow(), 3, 1, 2)
    assert (result.answers, result.free_texts, result.conversations) == (3, 1, 2)
    assert (result.proposals, result.invitations, result.rsvps, result.outbox) == (0, 0, 0, 0)
    assert result.changed == 5


# ---- proposals ---------------------------------------------------------------------------


async def test_old_proposals_go_with_their_notes_and_notices(app: App) -> None:
    now = utcnow()
    long_ago = now - timedelta(days=app.settings.retention_days + 5)
    young, other = await resident(app, "700000001"), await resident(app, "700000002")
    worker_id = await resident(app, "700000009", role="worker")
    async with app.database.transaction() as session:
        worker = await session.get(Participant, worker_id)
        assert worker is not None
        old = Proposal(
            participant_id=young,
            neighbourhood="kerkelanden",
            details={"what": f"{OLD_IDEA} by the school", "where": "Schoolplein"},
            status=APPROVED,
            decided_by=worker_id,
        )
        new = Proposal(
            participant_id=other,
            neighbourhood="kerkelanden",
            details={"what": "A film night"},
            status=ASKING,
        )
        session.add_all([old, new])
        await session.flush()
        # The review notices, as the propose flow queues them (they quote the idea).
        assert await send_for_review(session, app.parts, old, [worker], "new") == 1
        assert await send_for_review(session, app.parts, new, [worker], "new") == 1
        session.add_all(
            [
                ProposalNote(
                    proposal_id=old.id, author_id=worker_id, kind="question", text="Which day?"
                ),
                ProposalNote(
                    proposal_id=old.id,
                    author_id=young,
                    kind="answer",
                    text=f"{OLD_IDEA} on Saturday",
                ),
                ProposalNote(proposal_id=old.id, author_id=worker_id, kind="approve"),
                ProposalNote(
                    proposal_id=new.id, author_id=worker_id, kind="question", text="When?"
                ),
            ]
        )
        made = await create_activity(
            session,
            title="Skate day",
            starts_at=None,
            status=DRAFT,
            created_by=worker_id,
            organisers=[(worker_id, "organiser"), (young, "co-organiser")],
        )
        old.activity_id = made.id
        old_id, new_id, activity_id = old.id, new.id, made.id
    async with app.database.transaction() as session:
        # The old proposal was decided on long ago; its notice reached the worker late
        # (recently), so only the link to the proposal makes it go.
        await session.execute(
            update(Proposal)
            .where(Proposal.id == old_id)
            .values(created_at=long_ago, updated_at=long_ago)
        )
        await session.execute(
            update(ProposalNote)
            .where(ProposalNote.proposal_id == old_id)
            .values(created_at=long_ago)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == f"proposal:{old_id}:new:{worker_id}")
            .values(
                status="sent",
                created_at=long_ago,
                due_at=long_ago,
                claimed_at=now - timedelta(days=2),
                sent_at=now - timedelta(days=2),
            )
        )
    assert len(await all_rows(app, ProposalNote)) == 4

    result = await purge(app.database, app.library, days=app.settings.retention_days)

    assert (result.proposals, result.proposal_notes, result.outbox) == (1, 3, 1)
    assert [p.id for p in await all_rows(app, Proposal)] == [new_id]
    notes = await all_rows(app, ProposalNote)
    assert [(n.proposal_id, n.text) for n in notes] == [(new_id, "When?")]
    notices = await all_rows(app, OutboxMessage)
    assert [n.dedupe_key for n in notices] == [f"proposal:{new_id}:new:{worker_id}"]
    assert notices[0].status == "queued"
    # The activity made from the idea is the workers' now: it stays, with its organisers.
    async with app.database.transaction() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None and activity.title["_"] == "Skate day"
        organisers = (await session.execute(select(ActivityOrganiser))).scalars().all()
        assert {(o.participant_id, o.role) for o in organisers} == {
            (worker_id, "organiser"),
            (young, "co-organiser"),
        }
        assert await session.get(Participant, young) is not None
    data = sqlite_bytes(app)
    assert data is None or OLD_IDEA.encode() not in data

    again = await purge(app.database, app.library, days=app.settings.retention_days)
    assert nothing(again)
    assert [p.id for p in await all_rows(app, Proposal)] == [new_id]
    assert len(await all_rows(app, ProposalNote)) == 1


# ---- invitations and RSVPs ---------------------------------------------------------------


async def counts_by_activity(app: App, model: Any) -> Counter[int]:
    async with app.database.transaction() as session:
        rows = await session.execute(
            select(model.activity_id, func.count()).group_by(model.activity_id)
        )
        return Counter(dict(rows.all()))


async def test_invitations_and_rsvps_of_long_past_activities_go(app: App) -> None:
    now = utcnow()
    long_ago = now - timedelta(days=app.settings.retention_days + 3)
    ids = [await resident(app, f"71000000{i}") for i in range(3)]
    activities: dict[str, int] = {}
    async with app.database.transaction() as session:
        people = [await session.get(Participant, pid) for pid in ids]
        assert all(people)
        for name, days in (("old", 2), ("recent", 2), ("coming", 30)):
            activity = await create_activity(
                session,
                title=f"{name} barbecue",
                starts_at=now + timedelta(days=days),
                place="Het plein",
                neighbourhoods=["kerkelanden"],
            )
            queued, _ = await queue_invitations(session, app.parts, activity, people)
            assert queued == 3
            await rsvp.respond(session, app.parts, activity, people[0], GOING)
            await rsvp.respond(session, app.parts, activity, people[1], NOT_GOING)
            activities[name] = activity.id
        # Drafts without a date (an approved idea): no invitation can be sent for them,
        # but should a row exist, the draft's age decides.
        for name in ("undated-old", "undated-new"):
            draft = await create_activity(session, title=name, starts_at=None, status=DRAFT)
            session.add(Invitation(activity_id=draft.id, participant_id=ids[2], batch_id="manual"))
            session.add(Rsvp(activity_id=draft.id, participant_id=ids[2], answer=MAYBE))
            activities[name] = draft.id
    async with app.database.transaction() as session:
        # The activities took place (or were made) then; the rows themselves are recent.
        for name, values in (
            ("old", {"starts_at": long_ago}),
            ("recent", {"starts_at": now - timedelta(days=30)}),
            ("undated-old", {"created_at": long_ago}),
        ):
            await session.execute(
                update(Activity).where(Activity.id == activities[name]).values(**values)
            )
    before_outbox = [(m.id, m.status) for m in await all_rows(app, OutboxMessage)]
    assert len(before_outbox) == 9 and {s for _, s in before_outbox} == {"queued"}

    result = await purge(app.database, app.library, days=app.settings.retention_days)

    assert (result.invitations, result.rsvps) == (4, 3)
    kept = {activities[n] for n in ("recent", "coming", "undated-new")}
    assert await counts_by_activity(app, Invitation) == Counter(
        {activities["recent"]: 3, activities["coming"]: 3, activities["undated-new"]: 1}
    )
    assert await counts_by_activity(app, Rsvp) == Counter(
        {activities["recent"]: 2, activities["coming"]: 2, activities["undated-new"]: 1}
    )
    assert {r.activity_id for r in await all_rows(app, Rsvp)} == kept
    # Every activity stays as it was, and queued messages are never touched.
    found = {a.id: a.status for a in await all_rows(app, Activity)}
    assert found == {
        activities["old"]: "planned",
        activities["recent"]: "planned",
        activities["coming"]: "planned",
        activities["undated-old"]: DRAFT,
        activities["undated-new"]: DRAFT,
    }
    assert [(m.id, m.status) for m in await all_rows(app, OutboxMessage)] == before_outbox
    assert len(await all_rows(app, Participant)) == 3

    again = await purge(app.database, app.library, days=app.settings.retention_days)
    assert nothing(again)
    assert sum((await counts_by_activity(app, Invitation)).values()) == 7


# ---- the outbox --------------------------------------------------------------------------


async def move(app: App, row_id: int, **moments: datetime | None) -> None:
    async with app.database.transaction() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id).values(**moments)
        )


async def test_old_finished_outbox_messages_go_and_unsent_ones_stay(app: App) -> None:
    now = utcnow()
    long_ago = now - timedelta(days=app.settings.retention_days + 2)
    lately = now - timedelta(days=10)
    pid = await resident(app, "720000001")
    claimable = ("sent-old", "dead-old", "sent-late", "failed-lately", "sending-old")
    waiting = ("cancelled-old", "cancelled-due-lately", "queued-old")
    ids: dict[str, int] = {}
    async with app.database.transaction() as session:
        for name in claimable + waiting:
            row = await outbox.enqueue(
                session,
                pid,
                "notice",
                outbox.text(f"Message {name}"),
                urgent=True,
                due_at=now if name in claimable else now + timedelta(days=1),
            )
            assert row is not None
            ids[name] = row
    # Through the dispatcher's own steps: claim, send, give up, cancel.
    async with app.database.transaction() as session:
        claimed = await outbox.claim(session, "test-dispatcher", now, 100, ["test"])
        assert {c.id for c in claimed} == {ids[n] for n in claimable}
        await outbox.record(
            session,
            "test-dispatcher",
            outbox.Results(
                sent=[(ids["sent-old"], now), (ids["sent-late"], now)],
                final=[
                    (ids["dead-old"], "dead", 5, "gave up"),
                    (ids["failed-lately"], "failed", 1, "refused"),
                ],
            ),
        )
        assert await outbox.cancel(session, "called off", ids=[ids["cancelled-old"]]) == 1
        assert await outbox.cancel(session, "called off", ids=[ids["cancelled-due-lately"]]) == 1
    everything_old = {"created_at": long_ago, "due_at": long_ago}
    await move(app, ids["sent-old"], **everything_old, claimed_at=long_ago, sent_at=long_ago)
    await move(app, ids["dead-old"], **everything_old, claimed_at=long_ago)
    await move(app, ids["cancelled-old"], **everything_old)
    # Queued long ago, but sent (or due) lately: the last change counts. (A row whose
    # lease ran out is queued again without `claimed_at`; sent is still recorded.)
    await move(app, ids["sent-late"], **everything_old, claimed_at=None, sent_at=lately)
    await move(app, ids["cancelled-due-lately"], created_at=long_ago, due_at=lately)
    # Due long ago (its channel was not running), tried and given up on lately.
    await move(app, ids["failed-lately"], **everything_old, claimed_at=lately)
    # Never finished: whatever their age, they stay.
    await move(app, ids["queued-old"], **everything_old)
    await move(app, ids["sending-old"], **everything_old, claimed_at=long_ago)
    statuses = {m.id: m.status for m in await all_rows(app, OutboxMessage)}
    assert statuses == {
        ids["sent-old"]: "sent",
        ids["dead-old"]: "dead",
        ids["cancelled-old"]: "cancelled",
        ids["sent-late"]: "sent",
        ids["cancelled-due-lately"]: "cancelled",
        ids["failed-lately"]: "failed",
        ids["queued-old"]: "queued",
        ids["sending-old"]: "sending",
    }

    result = await purge(app.database, app.library, days=app.settings.retention_days)

    assert result.outbox == 3
    left = {m.id: m.content["text"] for m in await all_rows(app, OutboxMessage)}
    assert left == {
        ids[name]: f"Message {name}"
        for name in (
            "sent-late",
            "cancelled-due-lately",
            "failed-lately",
            "queued-old",
            "sending-old",
        )
    }
    data = sqlite_bytes(app)
    assert data is None or b"Message sent-old" not in data

    again = await purge(app.database, app.library, days=app.settings.retention_days)
    assert nothing(again)
    assert len(await all_rows(app, OutboxMessage)) == 5


async def test_receipts_go_after_a_week(app: App) -> None:
    person = Person(app.service, user_id="600000009")
    await onboard(person)
    async with app.database.transaction() as session:
        kept = len((await session.execute(select(InboundReceipt))).scalars().all())
    assert kept > 0
    assert (
        await purge(
            app.database,
            app.library,
            days=app.settings.retention_days,
            now=utcnow() + timedelta(days=6),
        )
    ).receipts == 0
    assert (
        await purge(
            app.database,
            app.library,
            days=app.settings.retention_days,
            now=utcnow() + timedelta(days=8),
        )
    ).receipts == kept
    async with app.database.transaction() as session:
        assert (await session.execute(select(InboundReceipt))).first() is None
