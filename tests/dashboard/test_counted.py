"""Counts kept for the results pages: served while the data is the same, counted again
as soon as anything a count reads has changed, and counted ahead in the background."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.app import App
from bot.dashboard.counted import Counted, Key
from bot.delivery import reminders
from bot.flows.labels import Labels
from bot.i18n.catalogs import Catalogs
from bot.privacy import retention
from bot.reports.aggregate import aggregate
from bot.reports.counting import count
from bot.reports.counting import mark as count_mark
from bot.reports.periods import Period, parse_compare
from bot.reports.protection import suppress, table_sums
from bot.storage.models import Conversation
from tests.community.helpers import onboard, participant
from tests.helpers import Person
from tests.reports.seed import engine_for, seed

pytestmark = pytest.mark.postgres

WHOLE = Period(None, None, "")
ZONE = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
async def counted(app: App) -> AsyncIterator[Counted]:
    seed(app.settings.database_url, participants=40, extra_flows=False)
    made = Counted(
        app.database,
        app.library,
        app.deployment,
        Catalogs()("en"),
        app.settings.timezone,
    )
    try:
        yield made
    finally:
        await made.close()


def counted_now(app: App, made: Counted, key: Key):
    """The same count, made afresh on a connection of its own."""
    engine = engine_for(app.settings.database_url)
    try:
        with engine.connect() as connection:
            return count(
                connection,
                key.scope(made.readable),
                Labels(app.library, app.deployment, made.translator),
                ZONE,
                only_outcomes=key.funnels_only,
            )
    finally:
        engine.dispose()


async def test_a_kept_count_is_served_until_the_data_changes(app: App, counted: Counted) -> None:
    key = Key("what-matters", WHOLE)
    first, mark = await counted.counts(key)
    assert first == counted_now(app, counted, key) and first["what-matters"].people
    again, same = await counted.counts(key)
    assert again is first and same == mark  # served, not counted again

    # Someone answers: the next view counts again, and shows them.
    person = Person(app.service, user_id="r-new")
    await onboard(person, neighbourhood="centrum")
    await person.say("Een speeltuin voor de kleintjes")
    after, moved = await counted.counts(key)
    assert moved != mark and after is not first
    assert after == counted_now(app, counted, key)
    assert after["what-matters"].people["centrum"] == first["what-matters"].people["centrum"] + 1

    # Their run expires (it ends without a new answer): how it ended changes.
    found = await participant(app, person)
    async with app.database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.participant_id == found.id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=60))
        )
    assert await reminders.expire_idle(app) >= 1
    expired, _ = await counted.counts(key)
    assert expired is not after and expired == counted_now(app, counted, key)
    assert expired["what-matters"].outcomes != after["what-matters"].outcomes

    # Retention anonymises answers: each becomes a person of its own.
    await retention.purge(app.database, app.library, days=30)
    anonymised, _ = await counted.counts(key)
    assert anonymised is not expired and anonymised == counted_now(app, counted, key)


async def test_an_age_groups_count_changes_when_someone_gives_their_age(
    app: App, counted: Counted
) -> None:
    key = Key("onboarding", WHOLE, "65+")
    before, _ = await counted.counts(key)
    person = Person(app.service, user_id="r-old")
    await onboard(person, neighbourhood="centrum", age="65+")
    after, _ = await counted.counts(key)
    assert after == counted_now(app, counted, key) != before


@pytest.mark.parametrize(
    "key",
    [
        Key("what-matters", WHOLE),
        Key("what-matters", parse_compare("this-month", ZONE)[1], None, True),
        Key("onboarding", WHOLE, "18-27"),
        Key("what-matters", Period(datetime.now(UTC) - timedelta(days=45), None, "")),
    ],
    ids=["whole town", "a funnel", "an age group", "a period"],
)
async def test_a_page_waited_for_is_counted_side_by_side_as_in_one_go(
    app: App, counted: Counted, key: Key
) -> None:
    side_by_side, _ = await counted.counts(key)
    one_go = await counted._in_thread(lambda c: counted._counted(c, key))
    assert side_by_side == one_go.counts == counted_now(app, counted, key)
    assert side_by_side[key.flow].people


class WrittenMeanwhile(Counted):
    """Someone answers while the statements of a count are on their way."""

    person: Person | None = None
    calls = 0

    async def _in_thread(self, work):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 3 and self.person is not None:  # after the mark and one statement
            await self.person.say("Een bankje bij de bushalte")
        return await super()._in_thread(work)


async def test_an_answer_while_counting_side_by_side_is_counted_in_one_go(app: App) -> None:
    seed(app.settings.database_url, participants=40, extra_flows=False)
    person = Person(app.service, user_id="r-meanwhile")
    await onboard(person, neighbourhood="centrum")
    made = WrittenMeanwhile(
        app.database,
        app.library,
        app.deployment,
        Catalogs()("en"),
        app.settings.timezone,
    )
    made.person = person
    key = Key("what-matters", WHOLE)
    try:
        counts, mark = await made.counts(key)
        # Not a mix of before and after: the count of after, with after's mark.
        assert counts == counted_now(app, made, key)
        assert mark == await made._in_thread(lambda c: count_mark(c, key.scope(made.readable)))
        assert made.calls > 4  # the statements, then the count in one go
    finally:
        await made.close()


async def test_counting_ahead_keeps_each_flows_pages(app: App, counted: Counted) -> None:
    flows = ["what-matters", "onboarding"]
    await counted.round(flows)
    months = parse_compare("this-month", ZONE)
    for flow in flows:
        assert Key(flow, WHOLE) in counted.kept
        assert Key(flow, WHOLE, "18-27") in counted.kept
        assert all(Key(flow, p, None, True) in counted.kept for p in months)
    kept = counted.kept[Key("what-matters", WHOLE)].counts
    served, _ = await counted.counts(Key("what-matters", WHOLE))
    assert served is kept  # a first view after counting ahead counts nothing

    # A round with nothing changed counts nothing again; a change is counted again.
    await counted.round(flows)
    assert counted.kept[Key("what-matters", WHOLE)].counts is kept
    person = Person(app.service, user_id="r-round")
    await onboard(person)
    await person.say("Meer bankjes")
    await counted.round(flows)
    assert counted.kept[Key("what-matters", WHOLE)].counts is not kept
    assert counted.kept[Key("what-matters", WHOLE)].counts == counted_now(
        app, counted, Key("what-matters", WHOLE)
    )


async def test_the_dashboard_in_use_starts_counting_ahead(app: App, counted: Counted) -> None:
    counted.start(lambda: ["what-matters"])
    await asyncio.sleep(0.2)
    assert counted.rounds == 0 and not counted.kept  # nobody has used it yet
    counted.touch()
    async with asyncio.timeout(60):
        while counted.rounds < 1:
            await asyncio.sleep(0.05)
    assert Key("what-matters", WHOLE) in counted.kept
    assert Key("onboarding", WHOLE) not in counted.kept  # only the flows it was given


async def test_tables_made_of_kept_counts_leave_them_as_they_were(
    app: App, counted: Counted
) -> None:
    key = Key("what-matters", WHOLE)
    counts, _ = await counted.counts(key)
    months = parse_compare("this-month", ZONE)
    found = {key: counts}
    for period in months:
        found[Key("what-matters", period, None, True)] = (
            await counted.counts(Key("what-matters", period, None, True))
        )[0]
    before = copy.deepcopy(found)
    for language in ("en", "ar"):
        made = aggregate(
            None,
            library=app.library,
            deployment=app.deployment,
            translator=Catalogs()(language),
            scope=key.scope(frozenset({"centrum"})),
            compare=months,
            sections=False,
            counter=counted.counter(found),
        )
        assert made.flows and made.comparison
    assert found == before


def test_protection_is_kept_by_value_and_handed_out_as_copies() -> None:
    grid = [[12, 3, 9], [7, 2, 5], [5, 1, 4]]
    sums = table_sums(3, 3, total_col=0)
    first = suppress(grid, sums)
    first[0][0] = None  # type: ignore[call-overload]
    second = suppress([row[:] for row in grid], sums)
    assert second[0][0] is not None and second[0][0].value == 12
    # 3 and 2 are small; 9 and 5 hidden with them, or the totals would give them away.
    assert [[c.status for c in row] for row in second] == [
        ["shown", "small", "hidden"],
        ["shown", "small", "hidden"],
        ["shown", "small", "small"],
    ]
