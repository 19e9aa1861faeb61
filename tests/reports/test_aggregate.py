"""Aggregation: counts of people, small groups suppressed everywhere, free text for workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from gettext import NullTranslations
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select

from bot.deployment import Deployment
from bot.flows.library import FlowLibrary
from bot.reports.aggregate import (
    HIDDEN,
    MIN_GROUP,
    SMALL,
    TOTAL,
    Cell,
    Results,
    Scope,
    Table,
    aggregate,
    change,
)
from bot.reports.periods import parse_compare
from bot.storage.models import OutboxMessage, Participant
from tests.reports.seed import SMALL as SMALL_NEIGHBOURHOOD
from tests.reports.seed import phone_like, seed

ZONE = "Europe/Amsterdam"


def every_table(results: Results) -> list[Table]:
    tables: list[Table] = list(results.sections) + list(results.comparison)
    for flow in results.flows:
        tables += flow.tables()
    return tables


def assert_no_small_number(results: Results) -> None:
    """The invariant: no shown number of people is between 1 and 4."""
    for table in every_table(results):
        lines = [*table.lines] + ([table.base] if table.base else [])
        for line in lines:
            for cell in line.cells:
                if cell.shown:
                    assert cell.value == 0 or cell.value >= MIN_GROUP, (table.name, line.key)
                else:
                    assert cell.value is None, "a suppressed cell must not carry its number"


# ---- cells ---------------------------------------------------------------------------


def test_small_numbers_are_hidden_and_carry_no_number() -> None:
    assert Cell.of(0) == Cell(0) and Cell.of(5) == Cell(5)
    assert Cell.of(3) == Cell(None, SMALL)
    assert Cell.of(3).text(NullTranslations()) == "fewer than 5"


# ---- on data -----------------------------------------------------------------------------


@pytest.fixture
def seeded(db_url: str):
    return seed(db_url, participants=60, small=3)


def run(
    engine: Engine,
    library: FlowLibrary,
    deployment: Deployment,
    scope: Scope | None = None,
    **options,
) -> Results:
    with engine.connect() as connection:
        return aggregate(
            connection,
            library=library,
            deployment=deployment,
            translator=NullTranslations(),
            scope=scope or Scope(),
            timezone=ZONE,
            **options,
        )


def test_a_neighbourhood_of_three_shows_fewer_than_5(
    seeded, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    assert seeded.per_neighbourhood[SMALL_NEIGHBOURHOOD] == 3
    results = run(engine, library, deployment)
    t = NullTranslations()
    flow = next(f for f in results.flows if f.flow_id == "what-matters")
    j = flow.participation.column(SMALL_NEIGHBOURHOOD)
    assert flow.participation.lines[0].cells[j].text(t) == "fewer than 5"
    for table in [flow.funnel, *flow.questions]:
        assert all(not line.cells[j].shown for line in table.lines), table.name
    assert_no_small_number(results)
    # The neighbourhood alone: still nothing but "fewer than 5".
    alone = run(engine, library, deployment, Scope(neighbourhoods=(SMALL_NEIGHBOURHOOD,)))
    assert [g.key for g in alone.groups] == [SMALL_NEIGHBOURHOOD]
    assert_no_small_number(alone)
    for table in every_table(alone):
        assert all(not c.shown or c.value == 0 for line in table.lines for c in line.cells)


def test_counts_are_people_per_answer(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seeded = seed(db_url, participants=60, small=0)
    results = run(engine, library, deployment, Scope(neighbourhoods=("kerkelanden",)))
    flow = next(f for f in results.flows if f.flow_id == "onboarding")
    people = flow.participation.lines[0].cells[0].value
    assert people == seeded.per_neighbourhood["kerkelanden"] == 12
    ages = next(t for t in flow.questions if t.name == "onboarding-age-group")
    assert ages.base is not None and ages.base.cells[0].value == 12
    assert [line.key for line in ages.lines] == ["12-17", "18-27", "28-64", "65+", "_skip"]
    assert ages.lines[0].label == "12 to 17"


def test_funnel_completed_still_answering_and_where_people_stop(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seeded = seed(db_url, participants=400, small=0, finish_rate=0.5)
    results = run(engine, library, deployment)
    flow = next(f for f in results.flows if f.flow_id == "what-matters")
    j = flow.funnel.column(TOTAL)
    lines = {line.key: line.cells[j].value for line in flow.funnel.lines}
    assert flow.funnel.base is not None
    people = flow.funnel.base.cells[j].value
    assert lines["completed"] == seeded.finished
    assert lines["answering"] == 0  # the seed's unfinished runs have expired
    assert lines["completed"] + lines["stopped"] == people
    stops = [key for key in lines if key.startswith("stop:")]
    assert stops == [
        f"stop:{k}" for k in ("good", "change", "change_why", "want_to_do", "contribute")
    ]
    assert sum(v for k, v in lines.items() if k.startswith("stop:") and v) == lines["stopped"]


def test_free_text_only_for_the_workers_neighbourhoods(
    seeded, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    nobody = run(engine, library, deployment)
    assert all(not flow.texts for flow in nobody.flows)
    worker = run(
        engine,
        library,
        deployment,
        Scope(
            neighbourhoods=("kerkelanden", SMALL_NEIGHBOURHOOD),
            free_text=frozenset({"kerkelanden", SMALL_NEIGHBOURHOOD}),
        ),
    )
    texts = [texts for flow in worker.flows for texts in flow.texts]
    assert texts and {t.group.key for t in texts} == {"kerkelanden"}  # not the group of 3
    everything = " ".join(text.text for t in texts for text in t.texts)
    assert "Een moestuin beginnen" in everything
    assert phone_like(everything) == [] and "@" not in everything
    # Each text says which language it was written in (#17: a worker reads Turkish as Turkish).
    shown = [text for t in texts for text in t.texts]
    assert {text.language for text in shown} <= {"nl", "en", "tr", "ar", "pl", "uk"}
    assert all(text.language for text in shown)
    named = {text.with_language() for text in shown}
    assert any(line.endswith("(Nederlands)") or line.endswith("(Türkçe)") for line in named)


def test_scores_themes_and_months(
    seeded, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    results = run(engine, library, deployment)
    feedback = next(f for f in results.flows if f.flow_id == "test-feedback")
    assert feedback.scores is not None
    mean = feedback.scores.lines[0].means[feedback.scores.column(TOTAL)]
    assert mean is not None and 3 <= mean <= 5
    matters = next(f for f in results.flows if f.flow_id == "what-matters")
    assert matters.themes is not None and 1 <= len(matters.themes.lines) <= 5
    assert matters.themes.title.startswith("Top themes: What would you like to change?")
    assert_no_small_number(results)


def test_comparing_two_periods(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    seed(db_url, participants=100, small=0, now=now, days=60)
    periods = parse_compare("2026-02-01..2026-02-28,2026-03-01..2026-03-31", ZoneInfo(ZONE))
    results = run(engine, library, deployment, compare=periods)
    people = next(t for t in results.comparison if t.name == "what-matters-compare-people")
    assert [g.label for g in people.groups] == [
        "2026-02-01 – 2026-02-28",
        "2026-03-01 – 2026-03-31",
    ]
    total = next(line for line in people.lines if line.key == TOTAL)
    assert all(c.shown and c.value and c.value > 0 for c in total.cells)
    assert_no_small_number(results)


def test_this_month_against_last() -> None:
    before, now = parse_compare("this-month", ZoneInfo(ZONE), today=datetime(2026, 3, 15).date())
    assert (before.label, now.label) == ("2026-02", "2026-03")
    assert now.until is not None and now.until.date().isoformat() == "2026-03-15"


def test_invitations_section(
    seeded, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    from bot.storage.models import community

    with engine.begin() as connection:
        people = connection.execute(
            select(Participant.id, Participant.neighbourhood).order_by(Participant.id)
        ).all()
        activity = connection.execute(
            insert(community.Activity).returning(community.Activity.id),
            {
                "title": {"_": "Barbecue"},
                "description": {"_": ""},
                "starts_at": datetime.now(UTC) + timedelta(days=3),
            },
        ).scalar_one()
        connection.execute(
            insert(community.Invitation),
            [{"activity_id": activity, "participant_id": p, "batch_id": "b"} for p, _ in people],
        )
        answers = ["going"] * 30 + ["waiting"] * 9 + ["maybe"] * 6 + ["no"] * 3
        connection.execute(
            insert(community.Rsvp),
            [
                {
                    "activity_id": activity,
                    "participant_id": p,
                    "answer": "going" if a == "waiting" else a,
                    "waiting": a == "waiting",
                }
                for (p, _), a in zip(people, answers, strict=False)
            ],
        )
        queued = [p for p, _ in people[len(answers) : len(answers) + 7]]
        connection.execute(
            insert(OutboxMessage),
            [
                {
                    "participant_id": p,
                    "channel": "telegram",
                    "kind": "invitation",
                    "content": {"type": "flow", "flow": "invitation"},
                    "status": "queued",
                    "dedupe_key": f"invitation:{activity}:{p}",
                }
                for p in queued
            ],
        )
    results = run(engine, library, deployment)
    assert results.skipped_sections == []
    [table] = results.sections
    assert table.title.startswith("Invitations: Barbecue (")
    j = table.column(TOTAL)
    assert table.base is not None and table.base.cells[j].value == len(people)
    values = {line.key: line.cells[j] for line in table.lines}
    # The waiting list is not going: 30 have a place, 9 wait for one.
    assert values["going"] == Cell(30) and values["waiting"] == Cell(9)
    assert values["queued"] == Cell(7)
    assert values["no_answer"] == Cell(len(people) - 48 - 7)
    assert values["cant"].status == SMALL  # 3 people
    # ... and as the lines add up to those invited, the next smallest is hidden too.
    assert values["maybe"].status == HIDDEN
    assert_no_small_number(results)


def test_a_change_from_nothing_reads_new() -> None:
    t = NullTranslations()
    assert change(Cell(0), Cell(12), t) == "new"
    assert change(Cell(0), Cell(0), t) == ""
    assert change(Cell(10), Cell(15), t) == "+50%"
    assert change(Cell(None, SMALL), Cell(15), t) == ""


def test_a_free_text_is_shown_with_the_language_it_was_written_in() -> None:
    from datetime import UTC, datetime

    from bot.reports.counting import Written
    from bot.reports.tables import grouped

    moment = datetime(2026, 11, 1, tzinfo=UTC)
    shown = grouped(
        [
            Written("Bir bahçe", "tr", 1, moment, 1),
            Written("bir  bahçe", "tr", 1, moment, 2),
            Written("حديقة", "ar", 1, moment, 3),
            Written("Een moestuin", None, 1, moment, 4),
        ]
    )
    assert [text.with_language() for text in shown] == [
        "Bir bahçe (×2) (Türkçe)",
        "حديقة (العربية)",
        "Een moestuin",
    ]


# ---- one age group ------------------------------------------------------------------------


def _ages(engine: Engine, young: dict[str, int]) -> None:
    """In each neighbourhood the first `young[n]` people (by id) are 12-17, the rest 28-64."""
    with engine.begin() as connection:
        rows = connection.execute(
            select(Participant.id, Participant.neighbourhood).order_by(Participant.id)
        ).all()
        seen: dict[str, int] = {}
        for pid, neighbourhood in rows:
            seen[neighbourhood] = seen.get(neighbourhood, 0) + 1
            age = "12-17" if seen[neighbourhood] <= young.get(neighbourhood, 0) else "28-64"
            connection.execute(
                Participant.__table__.update().where(Participant.id == pid).values(age_group=age)
            )


def _young_per_neighbourhood(engine: Engine, flow_id: str) -> dict[str, int]:
    """People of 12-17 who answered `flow_id`, per neighbourhood, counted by hand."""
    from bot.storage.models import Answer

    with engine.connect() as connection:
        rows = connection.execute(
            select(Answer.participant_id, Answer.neighbourhood)
            .join(Participant, Participant.id == Answer.participant_id)
            .where(Answer.flow_id == flow_id, Participant.age_group == "12-17")
        ).all()
    people: dict[str, set[int]] = {}
    for pid, neighbourhood in rows:
        people.setdefault(neighbourhood, set()).add(pid)
    return {key: len(found) for key, found in people.items()}


def test_one_age_group_hides_a_small_one_in_a_neighbourhood(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seed(db_url, participants=60, small=0)  # 12 people in each of 5 neighbourhoods
    _ages(engine, {"kerkelanden": 3, "centrum": 8, "de-riet": 7, "schelfhorst": 9})
    expected = _young_per_neighbourhood(engine, "what-matters")
    assert expected["kerkelanden"] == 3 and "windmolenbroek" not in expected
    free = frozenset({"kerkelanden", "centrum"})
    results = run(
        engine, library, deployment, Scope(flow="what-matters", age_group="12-17", free_text=free)
    )
    assert results.age_label == "12 to 17"
    assert_no_small_number(results)
    flow = results.flows[0]
    line = flow.participation.lines[0]
    t = NullTranslations()
    kerkelanden = line.cells[flow.participation.column("kerkelanden")]
    assert kerkelanden.text(t) == "fewer than 5"
    for key in ("centrum", "de-riet", "schelfhorst"):
        cell = line.cells[flow.participation.column(key)]
        assert not cell.shown or cell.value == expected[key], key
    assert line.cells[flow.participation.column("windmolenbroek")].value == 0
    # The total is shown only when the small group cannot be worked out from it: then
    # another neighbourhood is hidden beside it.
    total = line.cells[flow.participation.column(TOTAL)]
    assert total.shown and total.value == sum(expected.values())
    hidden = [c for c in line.cells[:-1] if not c.shown]
    assert len(hidden) >= 2
    # Every table of the flow: in a line with its total shown, never one hidden cell alone.
    for table in flow.tables():
        for row in [table.base, *table.lines] if table.base else table.lines:
            if len(row.cells) > 1 and row.cells[-1].shown and row.cells[-1].value:
                assert sum(not c.shown for c in row.cells[:-1]) != 1, (table.name, row.key)
    # What people wrote: only the age group's own, only where 5 or more of them answered.
    assert {t.group.key for t in flow.texts} <= {"centrum"}
    everyone = run(engine, library, deployment, Scope(flow="what-matters", free_text=free))
    assert {t.group.key for t in everyone.flows[0].texts} == {"kerkelanden", "centrum"}
    for texts in flow.texts:
        all_ages = next(
            x for x in everyone.flows[0].texts if (x.step, x.group) == (texts.step, texts.group)
        )
        assert texts.count < all_ages.count
    # The report for everyone is not changed by asking for an age group.
    again = run(engine, library, deployment, Scope(flow="what-matters", free_text=free))
    assert [c.value for c in again.flows[0].participation.lines[0].cells] == [
        c.value for c in everyone.flows[0].participation.lines[0].cells
    ]


def test_comparing_two_periods_for_one_age_group(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    seed(db_url, participants=100, small=0, now=now, days=60)
    _ages(engine, {key: 10 for key in ("centrum", "de-riet", "kerkelanden", "schelfhorst")})
    periods = parse_compare("2026-02-01..2026-02-28,2026-03-01..2026-03-31", ZoneInfo(ZONE))
    young = run(engine, library, deployment, Scope(age_group="12-17"), compare=periods)
    everyone = run(engine, library, deployment, compare=periods)
    assert_no_small_number(young)

    def totals(results: Results) -> list[int | None]:
        table = next(t for t in results.comparison if t.name == "what-matters-compare-people")
        return [c.value for c in next(x for x in table.lines if x.key == TOTAL).cells]

    assert all(
        y is not None and e is not None and 0 < y < e
        for y, e in zip(totals(young), totals(everyone), strict=True)
    )
    # The age group's people in each period, counted by hand, as the comparison's total.
    zone = ZoneInfo(ZONE)
    from bot.storage.models import Answer

    with engine.connect() as connection:
        for period, shown in zip(periods, totals(young), strict=True):
            people = connection.execute(
                select(Answer.participant_id)
                .distinct()
                .join(Participant, Participant.id == Answer.participant_id)
                .where(
                    Answer.flow_id == "what-matters",
                    Participant.age_group == "12-17",
                    Answer.created_at >= period.since.astimezone(zone),
                    Answer.created_at < period.until.astimezone(zone),
                )
            ).all()
            assert shown == len(people)
