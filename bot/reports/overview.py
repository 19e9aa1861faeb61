"""The dashboard's overview numbers: who takes part, and answers this week against last.

Counts of people, protected like every report table (`protection.suppress`): a group of
1 to 4 people is "fewer than 5", and where a total is shown, more cells of its line are
hidden until no small number can be worked out by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, distinct, func, select

from bot.deployment import Deployment
from bot.flows.context import Translator
from bot.reports.counting import NOT_IN_REPORTS
from bot.reports.model import TOTAL, Group, Line, Table
from bot.reports.periods import start_of
from bot.reports.protection import Cell, suppress, table_sums
from bot.storage.models import Answer, Participant

NO_NEIGHBOURHOOD = ""


@dataclass
class Overview:
    """Participants by neighbourhood and by language, and people who answered lately."""

    by_neighbourhood: Table
    by_language: Table
    this_week: Cell
    last_week: Cell


def _table(
    name: str,
    title: str,
    groups: list[Group],
    lines: list[tuple[str, str, dict[str, int]]],
) -> Table:
    """Lines of counts by groups (the last group the total), protected."""
    grid = [[counts.get(g.key, 0) for g in groups] for _, _, counts in lines]
    sums = table_sums(len(grid), len(groups), total_col=len(groups) - 1)
    cells = suppress(grid, sums) if grid else []
    return Table(
        name,
        title,
        groups,
        [Line(key, label, row) for (key, label, _), row in zip(lines, cells, strict=True)],
        kind="overview",
    )


def overview(
    connection: Connection,
    *,
    deployment: Deployment,
    translator: Translator,
    neighbourhoods: frozenset[str] | None,
    languages: list[str],
    language_names: dict[str, str],
    timezone: str = "Europe/Amsterdam",
    now: datetime | None = None,
) -> Overview:
    """Count the participants in scope (`neighbourhoods` None: the whole town)."""
    t = translator
    zone = ZoneInfo(timezone)
    now = now or datetime.now(zone)
    today = now.astimezone(zone).date()
    month_start = start_of(today.replace(day=1), zone)
    week_start = start_of(today - timedelta(days=today.weekday()), zone)
    last_week_start = week_start - timedelta(days=7)

    consenting = (Participant.consented_at.is_not(None), Participant.opted_out_at.is_(None))
    in_scope = []
    if neighbourhoods is not None:
        in_scope.append(Participant.neighbourhood.in_(sorted(neighbourhoods)))
    active = (
        select(Answer.participant_id)
        .where(Answer.created_at >= month_start, Answer.participant_id.is_not(None))
        .distinct()
    )
    counts: dict[str, dict[str, dict[str, int]]] = {
        "consenting": defaultdict(lambda: defaultdict(int)),
        "active": defaultdict(lambda: defaultdict(int)),
    }
    for neighbourhood, language, is_active, number in connection.execute(
        select(
            Participant.neighbourhood,
            Participant.language,
            Participant.id.in_(active),
            func.count(),
        )
        .where(*consenting, *in_scope)
        .group_by(Participant.neighbourhood, Participant.language, Participant.id.in_(active))
    ):
        place = neighbourhood or NO_NEIGHBOURHOOD
        code = language or ""
        for line in ("consenting", "active") if is_active else ("consenting",):
            for axis, key in (("n", place), ("l", code)):
                counts[line][axis][key] += number
                counts[line][axis + TOTAL][TOTAL] += number

    places = [
        n for n in deployment.neighbourhoods if neighbourhoods is None or n.key in neighbourhoods
    ]
    place_groups = [Group(n.key, n.name) for n in places]
    if neighbourhoods is None and counts["consenting"]["n"].get(NO_NEIGHBOURHOOD):
        place_groups.append(Group(NO_NEIGHBOURHOOD, t.gettext("Neighbourhood not known")))
    place_groups.append(Group(TOTAL, t.gettext("Total")))
    # Every language seen is a group, so that the groups add up to the total.
    seen = [code for code in counts["consenting"]["l"] if code not in languages]
    language_groups = [
        Group(code, language_names.get(code, code) or t.gettext("Language not known"))
        for code in [*languages, *sorted(seen)]
    ]
    language_groups.append(Group(TOTAL, t.gettext("Total")))

    def lines(axis: str) -> list[tuple[str, str, dict[str, int]]]:
        return [
            (
                "consenting",
                t.gettext("Taking part"),
                {**counts["consenting"][axis], **counts["consenting"][axis + TOTAL]},
            ),
            (
                "active",
                t.gettext("Answered this month"),
                {**counts["active"][axis], **counts["active"][axis + TOTAL]},
            ),
        ]

    def answered(since: datetime, until: datetime) -> Cell:
        stmt = select(func.count(distinct(Answer.participant_id))).where(
            Answer.created_at >= since,
            Answer.created_at < until,
            Answer.flow_id.not_in(NOT_IN_REPORTS),
        )
        if neighbourhoods is not None:
            stmt = stmt.where(Answer.neighbourhood.in_(sorted(neighbourhoods)))
        return Cell.of(connection.execute(stmt).scalar_one() or 0)

    return Overview(
        _table(
            "participants-neighbourhood",
            t.gettext("Participants by neighbourhood"),
            place_groups,
            lines("n"),
        ),
        _table(
            "participants-language",
            t.gettext("Participants by language"),
            language_groups,
            lines("l"),
        ),
        answered(week_start, now.astimezone(zone) + timedelta(seconds=1)),
        answered(last_week_start, week_start),
    )


def answers_per_flow(
    connection: Connection, neighbourhoods: frozenset[str] | None
) -> dict[str, int]:
    """How many answers each flow has (in the neighbourhoods), to open the one with most."""
    stmt = select(Answer.flow_id, func.count()).group_by(Answer.flow_id)
    if neighbourhoods is not None:
        stmt = stmt.where(Answer.neighbourhood.in_(sorted(neighbourhoods)))
    return {flow_id: number for flow_id, number in connection.execute(stmt)}
