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

from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.scope import Forbidden, choices, forbidden, neighbourhood_filter, viewer
from bot.reports import charts as ch
from bot.reports.aggregate import NOT_IN_REPORTS, TOTAL, Scope, Table, aggregate, change
from bot.reports.periods import Period, between, parse_compare
from bot.reports.report import focus

COMPARE = ("", "this-month", "previous")
CHARTED = frozenset({"choice", "multiple_choice", "yes_no", "scale", "language", "funnel"})


@dataclass
class Row:
    """A line of a table as the page shows it: label, cells as text, percent per cell."""

    label: str
    cells: list[str]
    percents: list[str]


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def reported_flows(library) -> list[tuple[str, str]]:
    return [
        (flow.id, flow.title)
        for flow in library.flows.values()
        if flow.id not in NOT_IN_REPORTS and flow.role == "resident"
    ]


def rows(table: Table, t) -> list[Row]:
    """Each line's cells in words, and the share of the group's people who gave it."""
    base = table.base
    out = []
    for line in table.lines:
        cells, percents = [], []
        for j, cell in enumerate(line.cells):
            text = cell.text(t)
            if line.means is not None and line.means[j] is not None:
                text = f"{line.means[j]:.1f} ({text})"
            cells.append(text)
            whole = base.cells[j] if base is not None else None
            if cell.shown and whole is not None and whole.shown and whole.value:
                percents.append(f"{round(100 * (cell.value or 0) / whole.value)}%")
            else:
                percents.append("")
        if table.kind == "comparison":
            # As in the report: the change from the first period to the second.
            cells.append(change(line.cells[0], line.cells[1]))
            percents.append("")
        out.append(Row(line.label, cells, percents))
    return out


async def results_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    t = state.catalogs(request[LANGUAGE])
    try:
        picked = neighbourhood_filter(request)
    except Forbidden:
        return forbidden(request)
    flows = reported_flows(app.library)
    flow_id = request.query.get("flow") or (flows[0][0] if flows else "")
    if flow_id not in {f for f, _ in flows}:
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
    scope = Scope(neighbourhoods=neighbourhoods, flow=flow_id, period=period, free_text=readable)
    key = (scope, periods, request[LANGUAGE])
    found = state.recent.get(key)
    if found is None:
        async with app.database.engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: aggregate(
                    sync,
                    library=app.library,
                    deployment=app.deployment,
                    translator=t,
                    scope=scope,
                    timezone=app.settings.timezone,
                    compare=periods,
                    sections=False,
                )
            )
        state.recent.put(key, found)
    group = focus(found) if found.groups else TOTAL
    flow = found.flows[0] if found.flows else None
    blocks = []
    if flow is not None:
        subtitle = next((g.label for g in found.groups if g.key == group), "")
        tables = [flow.participation, flow.funnel, *flow.questions]
        if flow.scores is not None:
            tables.append(flow.scores)
        if flow.months is not None:
            tables.append(flow.months)
        for table in tables:
            chart = None
            if table.lines and table.kind not in ("text", "date", "number", "media", "months"):
                chart = state.charts.add(
                    who.session_id,
                    partial(ch.table_chart, table, group, t, subtitle=subtitle, fmt="svg"),
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
