"""Sending an invitation or a poll (bot/community/broadcasts.py): the one set of rules the
chat, the command line and the dashboard share; the audit entries; stopping a batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.community import audit, broadcasts, roles
from bot.community.invitations import Audience, select_audience
from bot.flows.buttons import DONE, SKIP, button_rows
from bot.flows.events import Ask, Option
from bot.flows.numbered import numbered
from bot.i18n.catalogs import Catalogs
from bot.reports.protection import HIDDEN, SMALL, Cell
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.community import Activity, AuditEntry, Invitation
from tests.community.helpers import (
    activity_id,
    cli,
    invite,
    make_worker,
    new_activity,
    onboard,
    participant,
    queued,
)
from tests.community.test_invitations import residents
from tests.helpers import Person

pytestmark = pytest.mark.postgres

KERKELANDEN = Audience.of(neighbourhoods=["kerkelanden"])


async def actions_of(app: App) -> list[str]:
    """The audit log's actions, oldest first, without the worker joining (`make_worker`)."""
    async with app.database.transaction() as session:
        entries = reversed(await audit.entries(session))
        # Making the worker and the activity (CLI, chat) are entries of their own.
        return [
            e.action
            for e in entries
            if e.action != audit.WORKER_JOINED and not e.action.startswith("activity.")
        ]


async def test_the_rules_refuse_with_a_reason_for_each_field(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    parts = app.parts
    now = utcnow()
    async with app.database.transaction() as session:
        starts = (await session.get(Activity, activity)).starts_at

        async def refusals(request: broadcasts.Request) -> list[tuple[str, str]]:
            found = await broadcasts.plan(session, parts, request, allowed=None, now=now)
            return [(r.field, r.reason) for r in found.refusals]

        assert await refusals(broadcasts.Request()) == [("what", broadcasts.NOTHING)]
        both = broadcasts.Request(activity_id=activity, flow_id="what-matters")
        assert ("what", broadcasts.BOTH) in await refusals(both)
        past = broadcasts.Request(activity_id=activity, at=now - timedelta(minutes=1))
        assert await refusals(past) == [("at", broadcasts.PAST_TIME)]
        late = broadcasts.Request(activity_id=activity, at=starts + timedelta(minutes=1))
        assert await refusals(late) == [("at", broadcasts.AFTER_START)]
        nobody = broadcasts.Request(
            activity_id=activity, audience=Audience.of(neighbourhoods=["hofkamp"])
        )
        assert await refusals(nobody) == [("audience", broadcasts.NOBODY)]
        assert await refusals(broadcasts.Request(activity_id=999)) == [("what", "no such activity")]
        assert await refusals(broadcasts.Request(flow_id="onboarding")) == [
            ("what", "the bot runs it itself")
        ]
        assert await refusals(broadcasts.Request(flow_id="invite")) == [
            ("what", "it is a flow for community workers")
        ]
        fine = await broadcasts.plan(
            session, parts, broadcasts.Request(activity_id=activity), allowed=None, now=now
        )
        assert fine.ok and fine.reach == 4 and sum(fine.per_language.values()) == 4
    # Each reason reads in the worker's language.
    dutch = Catalogs(default="nl")("nl")
    text = broadcasts.Refusal("at", broadcasts.PAST_TIME).text(dutch)
    assert text and text != broadcasts.PAST_TIME


async def test_a_worker_sends_only_within_their_neighbourhoods(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    mine = frozenset({"kerkelanden"})
    async with app.database.transaction() as session:
        # No neighbourhood named: all of theirs, not the town.
        found = await broadcasts.plan(
            session, app.parts, broadcasts.Request(flow_id="what-matters"), allowed=mine
        )
        assert found.audience.neighbourhoods == ("kerkelanden",) and found.reach == 3
        elsewhere = broadcasts.Request(
            flow_id="what-matters", audience=Audience.of(neighbourhoods=["centrum"])
        )
        with pytest.raises(roles.Refused):
            await broadcasts.plan(session, app.parts, elsewhere, allowed=mine)
        with pytest.raises(roles.Refused):
            await broadcasts.plan(
                session,
                app.parts,
                broadcasts.Request(activity_id=activity),
                allowed=frozenset({"centrum"}),
            )
    assert not await queued(app)


async def test_send_records_and_stop_batch_stops_and_records_once(app: App) -> None:
    worker = await make_worker(app)
    people = await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    actor = audit.Actor.operator(audit.DASHBOARD)
    later = utcnow() + timedelta(hours=2)
    async with app.database.transaction() as session:
        found, sent = await broadcasts.send(
            session,
            app.parts,
            broadcasts.Request(activity_id=activity, audience=KERKELANDEN, at=later),
            actor,
            allowed=None,
        )
    assert sent is not None and sent.queued == found.reach == 3
    assert await actions_of(app) == [audit.INVITATION_SENT]

    async with app.database.transaction() as session:
        [shown] = await broadcasts.batches(session, None)
        assert shown.batch_id == sent.batch_id and shown.activity_id == activity
        assert shown.progress.queued == 3 and shown.stoppable
        assert shown.neighbourhoods == ("kerkelanden",)
        # Someone of another neighbourhood neither sees nor stops it.
        assert await broadcasts.batches(session, frozenset({"centrum"})) == []
        with pytest.raises(roles.Refused):
            await broadcasts.stop_batch(
                session, sent.batch_id, actor, allowed=frozenset({"centrum"})
            )
    async with app.database.transaction() as session:
        stopped = await broadcasts.stop_batch(
            session, sent.batch_id, actor, allowed=frozenset({"kerkelanden"})
        )
        assert stopped == 3
        assert await broadcasts.stop_batch(session, sent.batch_id, actor, allowed=None) == 0
        assert not (await session.execute(select(Invitation))).scalars().all()
    assert await actions_of(app) == [audit.INVITATION_SENT, audit.INVITATION_STOPPED]
    assert not await queued(app, people["nl"], kind="invitation")

    # They can be invited again, and a poll is recorded as a poll.
    async with app.database.transaction() as session:
        _, again = await broadcasts.send(
            session, app.parts, broadcasts.Request(activity_id=activity), actor, allowed=None
        )
        _, poll = await broadcasts.send(
            session,
            app.parts,
            broadcasts.Request(flow_id="what-matters", audience=KERKELANDEN, at=later),
            actor,
            allowed=None,
        )
        assert again is not None and again.queued == 4
        assert poll is not None and poll.queued == 3
        assert await broadcasts.stop_batch(session, poll.batch_id, actor, allowed=None) == 3
    assert (await actions_of(app))[2:] == [
        audit.INVITATION_SENT,
        audit.POLL_SENT,
        audit.POLL_STOPPED,
    ]


async def test_the_chat_and_the_command_line_record_too(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    reply = await invite(worker)
    assert "3 invitations" in reply
    result = await cli(app, "broadcast", "--flow", "what-matters", "-n", "kerkelanden")
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1] == "3"
    result = await cli(app, "broadcast", "--activity", str(activity), "-n", "kerkelanden")
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1] == "0"
    async with app.database.transaction() as session:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.action != audit.WORKER_JOINED,
                    AuditEntry.action.not_like("activity.%"),  # making the activity
                )
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(r.action, r.via) for r in rows] == [
        (audit.INVITATION_SENT, audit.CHAT),
        (audit.POLL_SENT, audit.CLI),
    ]
    assert rows[0].actor_pseudonym != audit.OPERATOR and rows[1].actor_pseudonym == audit.OPERATOR


async def test_the_chat_refuses_a_time_that_has_passed(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    await invite(worker, send="later")
    await worker.say("today")
    reply = await worker.say("00:01")
    assert "This time has passed" in reply and "Nothing was sent" in reply
    assert not await queued(app, kind="invitation")


async def test_the_preview_is_drawn_by_the_channels_own_rendering(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    async with app.database.transaction() as session:
        found = await session.get(Activity, activity)
        messages = broadcasts.preview(app.parts, broadcasts.Request(), found, "nl")
    [ask] = messages
    assert isinstance(ask, Ask) and "Buurtbarbecue" in ask.text
    assert [b.label for row in button_rows(ask) for b in row] == [o.label for o in ask.options]
    lines = [f"{n}. {o.label}" for n, o in enumerate(ask.options, start=1)]
    assert numbered(ask).endswith("\n".join(lines))
    poll = broadcasts.preview(app.parts, broadcasts.Request(flow_id="checkin"), None, "en")
    assert "Do you want to join an activity" in " ".join(m.text for m in poll if isinstance(m, Ask))


def test_button_rows_put_skip_and_done_on_rows_of_their_own() -> None:
    ask = Ask(
        step="s",
        text="?",
        options=(Option("a", "A"), Option("b", "B"), Option("_skip", "Rather not say")),
        multiple=True,
        selected=("a",),
        done_label="Done",
    )
    rows = button_rows(ask)
    assert [[(b.label, b.does) for b in row] for row in rows] == [
        [("✅ A", "option"), ("B", "option")],
        [("Rather not say", SKIP)],
        [("Done", DONE)],
    ]
    assert button_rows(Ask(step="t", text="Type it")) == []


async def test_a_poll_written_in_the_dashboard_is_listed_and_sent_like_any_flow(
    app: App,
) -> None:
    from tests.community.test_polls_written import write

    people = await residents(app)
    poll, problems = await write(app)
    assert poll is not None, problems
    flow_id = f"poll-{poll.id}"
    # As if another process wrote it: this one has not seen it yet.
    app.library.flows.pop(flow_id, None)
    async with app.database.transaction() as session:
        listed = await broadcasts.sendable_flows(session, app.library, frozenset({"kerkelanden"}))
        elsewhere = await broadcasts.sendable_flows(session, app.library, frozenset({"centrum"}))
    assert listed[-1] == flow_id and "what-matters" in listed
    assert flow_id not in elsewhere, "a poll for Kerkelanden is not offered to Centrum's worker"
    async with app.database.transaction() as session:
        found, sent = await broadcasts.send(
            session,
            app.parts,
            broadcasts.Request(flow_id=flow_id, audience=KERKELANDEN),
            audit.Actor.operator(audit.DASHBOARD),
            allowed=None,
        )
    # The three in Kerkelanden who may get it (see `residents`).
    assert not found.refusals and sent is not None and sent.queued == 3
    assert {"nl", "tr", "pl", "elsewhere"} <= set(people)


async def test_the_reach_shown_is_the_number_queued(app: App) -> None:
    """`plan` counts the reach in the database (`count_audience`); `send` queues the
    people `select_audience` loads: for every kind of audience, the same people."""
    worker = await make_worker(app)
    people = await residents(app)
    # Someone who said yes to joining an activity counts for any interest; someone
    # with other interests, and someone with none.
    keen = Person(app.service, user_id="r-keen")
    await onboard(keen, language="ar", neighbourhood="centrum", interests=("sport",))
    other = Person(app.service, user_id="r-other")
    await onboard(other, language="uk", interests=("cooking",))
    none = Person(app.service, user_id="r-none")
    await onboard(none, language="en", neighbourhood="centrum", interests=())
    async with app.database.transaction() as session:
        found = await participant(app, keen)
        await session.execute(
            update(Participant).where(Participant.id == found.id).values(wants_activities=True)
        )
    await new_activity(worker)
    activity = await activity_id(app)
    actor = audit.Actor.operator(audit.DASHBOARD)
    audiences = [
        Audience(),
        KERKELANDEN,
        Audience.of(interests=["green"]),
        Audience.of(interests=["cooking", "sport"]),
        Audience.of(interests=["nothing-anyone-chose"]),
        Audience.of(languages=["tr", "ar"]),
        Audience.of(neighbourhoods=["centrum"], interests=["green"]),
        Audience.of(age_groups=["18-27"], languages=["nl", "uk"]),
    ]
    reached = []
    for audience in audiences:
        for request in (
            broadcasts.Request(flow_id="what-matters", audience=audience),
            # The second round of invitations reaches nobody: all were invited.
            broadcasts.Request(activity_id=activity, audience=audience),
            broadcasts.Request(activity_id=activity, audience=audience),
        ):
            async with app.database.transaction() as session:
                plan = await broadcasts.plan(session, app.parts, request, allowed=None)
                loaded = await select_audience(
                    session,
                    plan.audience,
                    activity_id=request.activity_id,
                )
                assert plan.reach == len(loaded)
                found, sent = await broadcasts.send(
                    session, app.parts, request, actor, allowed=None
                )
                assert found.per_language == plan.per_language
                if not plan.reach:
                    assert sent is None and plan.refusal(broadcasts.AUDIENCE)
                    reached.append(0)
                    continue
                assert sent is not None and sent.queued == plan.reach
                rows = (
                    await session.execute(
                        select(Participant.language, func.count())
                        .join(OutboxMessage, OutboxMessage.participant_id == Participant.id)
                        .where(OutboxMessage.batch_id == sent.batch_id)
                        .group_by(Participant.language)
                    )
                ).all()
                assert dict(rows) == dict(plan.per_language)
                reached.append(plan.reach)
                if request.flow_id:
                    await broadcasts.stop_batch(session, sent.batch_id, actor, allowed=None)
        # The activity's invitations go for the next audience.
        async with app.database.transaction() as session:
            for batch in await broadcasts.batches(session, None):
                await broadcasts.stop_batch(session, batch.batch_id, actor, allowed=None)
    assert reached == [7, 7, 0, 4, 4, 0, 5, 5, 0, 5, 5, 0, 1, 1, 0, 2, 2, 0, 2, 2, 0, 2, 2, 0]
    assert people  # the residents' helper's people are among them


async def test_a_worker_sees_a_small_reach_as_fewer_than_5_and_a_coordinator_exactly(
    app: App,
) -> None:
    """Narrowing the audience must not tell a worker who is in it (before sending)."""
    worker = await make_worker(app)
    await residents(app)  # in Kerkelanden: one each in Dutch, Turkish and Polish
    await new_activity(worker)
    request = broadcasts.Request(activity_id=await activity_id(app), audience=KERKELANDEN)
    async with app.database.transaction() as session:
        town = await broadcasts.plan(session, app.parts, request, allowed=None)
        theirs = await broadcasts.plan(
            session, app.parts, request, allowed=frozenset({"kerkelanden"})
        )
    assert town.shown.total == Cell(3)
    assert dict(town.shown.languages) == {"nl": Cell(1), "pl": Cell(1), "tr": Cell(1)}
    assert theirs.ok and theirs.reach == 3  # it may still be sent
    assert theirs.shown.total == Cell(None, SMALL)
    assert [cell for _code, cell in theirs.shown.languages] == [Cell(None, SMALL)] * 3
    # The reply in the chat says so, in the worker's language, without a number.
    reply = await invite(worker)
    assert "This invitation reaches fewer than 5 people:" in reply
    for name in ("Nederlands", "Türkçe", "Polski"):
        assert f"• {name}: fewer than 5" in reply


def test_a_small_language_is_hidden_with_one_that_would_give_it_away() -> None:
    def shown(per_language: dict[str, int], scope: frozenset[str] | None) -> broadcasts.Reach:
        found = broadcasts.Plan(broadcasts.Request(), KERKELANDEN, scope=scope)
        found.per_language.update(per_language)
        return found.shown

    worker = frozenset({"kerkelanden"})
    reach = shown({"nl": 9, "tr": 3, "ar": 7}, worker)
    # Turkish is 1 to 4; with the total shown, Arabic (the smaller other) is hidden too.
    assert reach.total == Cell(19)
    assert reach.languages == (
        ("nl", Cell(9)),
        ("ar", Cell(None, HIDDEN)),
        ("tr", Cell(None, SMALL)),
    )
    # Hidden ones come by their code, whatever their size.
    assert [code for code, _ in shown({"uk": 2, "ar": 3, "nl": 20}, worker).languages] == [
        "nl",
        "ar",
        "uk",
    ]
    assert shown({"nl": 6, "tr": 5}, worker).languages == (("nl", Cell(6)), ("tr", Cell(5)))
    assert shown({"nl": 9, "tr": 3}, None).languages == (("nl", Cell(9)), ("tr", Cell(3)))
