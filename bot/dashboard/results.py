"""Results: one flow, each question as a chart and a table, with filters.

The numbers are `bot.reports.aggregate`'s, for the viewer's neighbourhoods (or the one
picked), in a period, optionally compared with another; small groups come already
hidden, and free-text answers only for groups large enough, redacted as in exports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.community import polls
from bot.dashboard.counted import Key
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.scope import Forbidden, choices, forbidden, neighbourhood_filter, viewer
from bot.flows.labels import Labels
from bot.reports import charts as ch
from bot.reports.aggregate import age_groups, aggregate
from bot.reports.compare import change
from bot.reports.counting import NOT_IN_REPORTS
from bot.reports.model import TOTAL, Scope, Table
from bot.reports.overview import answers_per_flow
from bot.reports.periods import Period, between, parse_compare
from bot.reports.report import cell_text, focus

COMPARE = ("", "this-month", "previous")
CHARTED = frozenset({"choice", "multiple_choice", "yes_no", "scale", "language", "funnel"})


@dataclass
class Row:
    """A line of a table as the page shows it, the same words as in `report.md`."""

    label: str
    cells: list[str]
    base: bool = False


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def reported_flows(library) -> list[tuple[str, str]]:
    """The flows residents answer: those the report counts."""
    return [
        (flow.id, flow.title)
        for flow in library.flows.values()
        if flow.for_residents and flow.id not in NOT_IN_REPORTS
    ]


async def viewed_flows(request: web.Request) -> list[tuple[str, str]]:
    """The flows the report counts and the viewer's polls, each with its title in the
    page's language (a poll's as the worker wrote it, in that language where given)."""
    state = request.app[DASHBOARD]
    app = state.app
    async with app.database.transaction() as session:
        written = await polls.poll_flows_for(session, app.library, viewer(request).neighbourhoods)
    labels = Labels(
        app.library, app.deployment, state.catalogs(request[LANGUAGE]), language=request[LANGUAGE]
    )
    found = reported_flows(app.library) + [(flow.id, flow.title) for flow in written]
    return [(flow_id, labels.flow_title(flow_id)) for flow_id, _ in found]


def rows(table: Table, t) -> list[Row]:
    """The table's lines in words: its base (n) first, each count with its share of the
    base, averages with their people, a comparison with its change (`bot.reports`)."""
    lines = list(table.lines)
    if table.base is not None and table.base not in lines:
        lines = [table.base, *lines]
    out = []
    for line in lines:
        cells = [cell_text(table, line, j, t) for j in range(len(line.cells))]
        if line.means is not None:
            cells = [
                f"{mean:.1f} ({cell.text(t)})" if mean is not None else cell.text(t)
                for mean, cell in zip(line.means, line.cells, strict=True)
            ]
        if table.kind == "comparison":
            cells.append(change(line.cells[0], line.cells[1], t))
        out.append(Row(line.label, cells, base=line is table.base))
    return out


async def _busiest(app, flows: list[tuple[str, str]], neighbourhoods) -> str:
    """The flow with the most answers, which a page without a chosen flow opens."""
    if not flows:
        return ""
    counts = await app.database.in_thread(lambda sync: answers_per_flow(sync, neighbourhoods))
    return max(flows, key=lambda flow: counts.get(flow[0], 0))[0]


async def results_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    t = state.catalogs(request[LANGUAGE])
    try:
        picked = neighbourhood_filter(request)
    except Forbidden:
        return forbidden(request)
    flows = await viewed_flows(request)
    flow_id = request.query.get("flow") or await _busiest(app, flows, who.neighbourhoods)
    if flow_id not in {f for f, _ in flows}:
        return page(request, "error.html", status=404, reason="not_found")
    ages = age_groups(Labels(app.library, app.deployment, t))
    age = request.query.get("age_group", "").strip() or None
    if age is not None and age not in {code for code, _ in ages}:
        return page(request, "error.html", status=404, reason="not_found")
    zone = ZoneInfo(app.settings.timezone)
    since, until = _date(request.query.get("since")), _date(request.query.get("until"))
    period = between(since, until, zone) if since or until else Period(None, None, "")
    compare_choice = request.query.get("compare", "")
    periods = None
    if compare_choice == "this-month":
        periods = parse_compare("this-month", zone)
    elif compare_choice == "previous" and since and until and since <= until:
        periods = parse_compare(f"{since.isoformat()}..{until.isoformat()}", zone)
    if picked is not None:
        neighbourhoods: tuple[str, ...] | None = (picked,)
    elif who.neighbourhoods is not None:
        neighbourhoods = tuple(sorted(who.neighbourhoods))
    else:
        neighbourhoods = None
    readable = (
        frozenset(neighbourhoods)
        if neighbourhoods is not None
        else frozenset(n.key for n in app.deployment.neighbourhoods)
    )
    scope = Scope(
        neighbourhoods=neighbourhoods,
        flow=flow_id,
        period=period,
        free_text=readable,
        age_group=age,
    )
    counted = state.counted
    wanted = [Key(flow_id, period, age)]
    wanted += [Key(flow_id, p, age, funnels_only=True) for p in periods or ()]
    counts, marks = {}, []
    for want in wanted:
        counts[want], now = await counted.counts(want)
        marks.append(now)
    # Tables made of the same counts for the same viewer are the same: kept a minute.
    key = (scope, periods, request[LANGUAGE], tuple(marks))
    found = state.recent.get(key)
    if found is None:
        found = await asyncio.to_thread(
            partial(
                aggregate,
                None,
                library=app.library,
                deployment=app.deployment,
                translator=t,
                scope=scope,
                timezone=app.settings.timezone,
                compare=periods,
                sections=False,
                counter=counted.counter(counts),
            )
        )
        state.recent.put(key, found)
    group = focus(found) if found.groups else TOTAL
    flow = found.flows[0] if found.flows else None
    blocks = []
    if flow is not None:
        subtitle = next((g.label for g in found.groups if g.key == group), "")
        for table in flow.tables():
            chart = None
            if table.lines and table.kind not in ("text", "date", "number", "media"):
                # As the report draws them: a trend for the total, the rest for the focus.
                column = TOTAL if table.kind in ("months", "weeks") else group
                if column not in [g.key for g in table.groups]:
                    column = table.groups[-1].key
                chart = state.charts.add(
                    who.session_id,
                    partial(ch.table_chart, table, column, t, subtitle=subtitle, fmt="svg"),
                )
            blocks.append((table, rows(table, t), chart))
    comparison = []
    for table in found.comparison:
        chart = state.charts.add(who.session_id, partial(ch.comparison_chart, table, t, fmt="svg"))
        comparison.append((table, rows(table, t), chart))
    return page(
        request,
        "results.html",
        flows=flows,
        flow_id=flow_id,
        flow=flow,
        results=found,
        blocks=blocks,
        comparison=comparison,
        neighbourhoods=choices(request),
        picked=picked or "",
        ages=ages,
        age=age or "",
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
        compare=compare_choice,
    )


async def chart(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    entry = state.charts.get(request.match_info["key"], viewer(request).session_id)
    if entry is None:
        return page(request, "error.html", status=404, reason="not_found")
    if entry.svg is None:
        entry.svg = await asyncio.to_thread(entry.draw)
    return web.Response(
        body=entry.svg,
        content_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )
