"""Results per neighbourhood and flow: the one entry point for every reader of results.

`aggregate` counts (`counting`), builds each flow's tables for every neighbourhood and
the town's total, protects them (`protection`: no group of fewer than 5 people, nothing
hidden that can be worked out), and then shows the neighbourhoods in scope (`Builder.view`).
The report folder, `/results` in chat, the exports and the dashboard all read the
`Results` it returns, so a number is hidden the same way in each of them.

For the dashboard, `Results.flow(flow_id).question(step_key)` is one question's table
with the hidden cells decided; `Table.n()` its base and `Table.percent()` its shares.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.deployment import Deployment
from bot.flows.labels import Labels
from bot.flows.library import FlowLibrary
from bot.i18n.translator import Translator
from bot.reports.compare import change, comparison
from bot.reports.counting import NOT_IN_REPORTS, FlowCount, count, left_out
from bot.reports.invitations import invitations
from bot.reports.model import (
    ALL_TIME,
    TOTAL,
    FlowResult,
    Group,
    Line,
    Results,
    Scope,
    Table,
    Texts,
)
from bot.reports.periods import Period
from bot.reports.protection import HIDDEN, MIN_GROUP, SHOWN, SMALL, Cell
from bot.reports.tables import (
    MONTHS,
    WEEKS,
    Builder,
    funnel,
    ordered,
    participation,
    question,
    scores,
    texts,
    themes,
    trend,
)

Counting = Callable[[Scope, bool], dict[str, FlowCount]]
"""Counts a scope (its funnels only when True): `count` on the connection, or counts
kept by the caller (the dashboard's, `bot.dashboard.counted`)."""

__all__ = [
    "ALL_TIME",
    "HIDDEN",
    "MIN_GROUP",
    "NOT_IN_REPORTS",
    "SHOWN",
    "SMALL",
    "TOTAL",
    "Cell",
    "FlowResult",
    "Group",
    "Line",
    "Results",
    "Scope",
    "Table",
    "Texts",
    "aggregate",
    "change",
    "left_out",
]


def _town(counted: dict[str, FlowCount], labels: Labels, deployment: Deployment) -> list[Group]:
    """Every neighbourhood of the deployment, any other seen in the answers, then Total."""
    seen = {group for acc in counted.values() for group in acc.people}
    keys = [n.key for n in deployment.neighbourhoods]
    keys += sorted(k for k in seen if k not in keys and k != "")
    if "" in seen:
        keys.append("")
    groups = [Group(k, labels.neighbourhood(k)) for k in keys]
    groups.append(Group(TOTAL, labels.t.gettext("Total")))
    return groups


def _shown(scope: Scope, town: list[Group], labels: Labels) -> list[Group]:
    if scope.neighbourhoods is None:
        return town
    groups = [Group(k, labels.neighbourhood(k)) for k in scope.neighbourhoods]
    if len(groups) != 1:
        groups.append(Group(TOTAL, labels.t.gettext("Total")))
    return groups


def age_groups(labels: Labels) -> list[tuple[str, str]]:
    """The age groups people can give (code, words), from the question that asks it."""
    for flow in labels.library.flows.values():
        for step in flow.steps:
            if step.store_as == "age_group":
                codes = [str(option.value) for option in getattr(step, "options_", [])]
                return [(code, labels.option(flow.id, step.key, code)) for code in codes]
    return []


def age_label(labels: Labels, code: str) -> str:
    """An age group as the onboarding asks it ("18 to 27"); "" is "Not known"."""
    return labels.profile("age_group", code) if code else labels.t.gettext("Not known")


def _flow(
    builder: Builder,
    flow_id: str,
    acc: FlowCount,
    labels: Labels,
    scope: Scope,
    groups: list[Group],
) -> FlowResult:
    made_funnel = funnel(builder, flow_id, acc, labels)
    questions = [
        question(builder, flow_id, key, acc, labels)
        for key in ordered(labels, flow_id, acc.steps)
        # The neighbourhood question is the groups themselves (see participation).
        if labels.kind(flow_id, key) != "neighbourhood"
    ]
    return FlowResult(
        flow_id,
        labels.flow_title(flow_id),
        participation(made_funnel),
        made_funnel,
        questions,
        themes(builder, flow_id, questions, labels),
        scores(builder, flow_id, acc, questions, labels),
        trend(builder, flow_id, acc.months, acc, groups, kind="months", keep=MONTHS),
        texts(builder, flow_id, acc, labels, scope, groups),
        weeks=trend(builder, flow_id, acc.weeks, acc, groups, kind="weeks", keep=WEEKS),
    )


def _funnel_only(builder: Builder, flow_id: str, acc: FlowCount, labels: Labels) -> FlowResult:
    made_funnel = funnel(builder, flow_id, acc, labels)
    return FlowResult(
        flow_id,
        labels.flow_title(flow_id),
        participation(made_funnel),
        made_funnel,
        [],
        None,
        None,
        None,
        [],
    )


def _results(
    connection: Connection | None,
    counter: Counting,
    scope: Scope,
    labels: Labels,
    deployment: Deployment,
    zone: ZoneInfo,
    *,
    sections: bool,
    language: str,
    funnels_only: bool = False,
) -> Results:
    """`funnels_only`: each flow's participation and funnel alone, as a comparison of
    two periods reads them (the same tables, counted and protected the same way)."""
    counted = counter(scope, funnels_only)
    town = _town(counted, labels, deployment)
    groups = _shown(scope, town, labels)
    builder = Builder(town, labels, groups)
    order = {flow_id: i for i, flow_id in enumerate(labels.library.flows)}
    flow_ids = sorted(counted, key=lambda f: (order.get(f, len(order)), f))
    results = Results(
        scope,
        groups,
        [
            _funnel_only(builder, f, counted[f], labels)
            if funnels_only
            else _flow(builder, f, counted[f], labels, scope, groups)
            for f in flow_ids
        ],
        generated_at=datetime.now(zone),
    )
    if scope.age_group is not None:
        results.age_label = age_label(labels, scope.age_group)
    if sections:
        assert connection is not None, "the sections are read from the database"
        results.sections = invitations(connection, builder, scope, labels, zone, language)
        if not results.sections:
            results.skipped_sections = ["invitations"]
    return results


def aggregate(
    connection: Connection | None,
    *,
    library: FlowLibrary,
    deployment: Deployment,
    translator: Translator,
    scope: Scope | None = None,
    timezone: str = "Europe/Amsterdam",
    compare: tuple[Period, Period] | None = None,
    sections: bool = True,
    language: str = "",
    counter: Counting | None = None,
) -> Results:
    """Count everything in `scope`; compare two periods when `compare` is given.

    Without a flow in `scope`, only the flows residents answer are counted (a flow's
    `audience`); `language` picks activity titles in that language where a worker
    gave one. `counter`: counts made already (then `connection` is only read for the
    sections).
    """
    scope = scope or Scope()
    zone = ZoneInfo(timezone)
    labels = Labels(library, deployment, translator)
    if counter is None:
        assert connection is not None, "nothing to count with"
        on = connection

        def counter(scope: Scope, funnels_only: bool) -> dict[str, FlowCount]:
            return count(on, scope, labels, zone, only_outcomes=funnels_only)

    results = _results(
        connection,
        counter,
        scope,
        labels,
        deployment,
        zone,
        sections=sections,
        language=language,
    )
    if compare is not None:
        results.periods = compare
        results.comparison = _compare(counter, scope, labels, deployment, zone, results, compare)
    return results


def _compare(
    counter: Counting,
    scope: Scope,
    labels: Labels,
    deployment: Deployment,
    zone: ZoneInfo,
    results: Results,
    periods: tuple[Period, Period],
) -> list[Table]:
    """Per flow: people who answered and who completed, per neighbourhood, in two periods."""
    t = labels.t
    each = [
        _results(
            None,
            counter,
            Scope(scope.neighbourhoods, scope.flow, period, frozenset(), scope.age_group),
            labels,
            deployment,
            zone,
            sections=False,
            language="",
            funnels_only=True,
        )
        for period in periods
    ]
    flow_ids = [f.flow_id for f in results.flows]
    for made in each:
        flow_ids += [f.flow_id for f in made.flows if f.flow_id not in flow_ids]
    tables = []
    for flow_id in flow_ids:
        found = [made.flow(flow_id) for made in each]
        funnels = (
            found[0].funnel if found[0] else None,
            found[1].funnel if found[1] else None,
        )

        def base(table: Table) -> Line | None:
            return table.base

        def completed(table: Table) -> Line | None:
            return next((line for line in table.lines if line.key == "completed"), None)

        for name, title, pick in (
            ("people", t.gettext("People who answered"), base),
            ("completed", t.gettext("Completed"), completed),
        ):
            tables.append(
                comparison(
                    flow_id,
                    f"{labels.flow_title(flow_id)}: {title}",
                    periods,
                    funnels,
                    pick,
                    results.groups,
                    f"{flow_id}-compare-{name}".replace("_", "-"),
                )
            )
    return tables
