"""The report: a folder for analysts, and messages with charts for workers in chat.

`write_report` writes `report.md` (headings, tables, the charts inline), one PNG per
chart and one CSV per table into a folder. `charts` renders the charts as bytes;
`summary` writes the short text a worker reads in chat; `results_messages` puts both
together for `/results`. Every number comes from `aggregate`, where small groups are
already suppressed, so nothing here can show one.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.deployment import Deployment
from bot.flows.events import Document, Outgoing, Say
from bot.flows.library import FlowLibrary
from bot.i18n.translator import Translator
from bot.reports import charts as ch
from bot.reports.aggregate import (
    MIN_GROUP,
    TOTAL,
    Cell,
    FlowResult,
    Line,
    Results,
    Scope,
    Table,
    aggregate,
    change,
)
from bot.reports.periods import parse_compare
from bot.storage.db import Database

MAX_MESSAGE = 3500
CHAT_TEXTS = 5


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


def focus(results: Results) -> str:
    """The group the charts show: the total, or the one neighbourhood in scope."""
    keys = [g.key for g in results.groups]
    return TOTAL if TOTAL in keys else keys[0]


def _group_label(results: Results) -> str:
    key = focus(results)
    return next(g.label for g in results.groups if g.key == key)


def _participation_chart(flow: FlowResult, t: Translator) -> bytes | None:
    table = flow.participation
    pairs = [
        (g.label, cell)
        for g, cell in zip(table.groups, table.lines[0].cells, strict=True)
        if g.key != TOTAL
    ]
    if len(pairs) < 2:
        return None
    return ch.bar_chart(
        f"{flow.title}: {t.gettext('People who answered')}",
        [label for label, _ in pairs],
        [ch.bars_of([cell for _, cell in pairs], t)],
        t,
    )


def _charted(table: Table) -> bool:
    return bool(table.lines) and table.kind not in ("text", "date", "number", "media")


def charts(results: Results, t: Translator, *, limit: int | None = None) -> list[Chart]:
    """The report's charts, most telling first: comparison, themes, funnel, scores,
    participation, then one per question, invitations, and months."""
    group = focus(results)
    subtitle = _group_label(results)
    made: list[Chart] = []

    def add(name: str, title: str, render: Callable[[], bytes | None]) -> None:
        if limit is not None and len(made) >= limit:
            return
        png = render()
        if png:
            made.append(Chart(name, title, png))

    for table in results.comparison:
        add(table.name, table.title, lambda table=table: ch.comparison_chart(table, t))
    for flow in results.flows:
        if flow.themes is not None:
            table = flow.themes
            add(
                table.name,
                table.title,
                lambda x=table: ch.table_chart(
                    x, group, t, subtitle=f"{subtitle} · {n_line(x, t, group)}"
                ),
            )
        add(
            flow.funnel.name,
            flow.funnel.title,
            lambda f=flow: ch.table_chart(
                f.funnel, group, t, subtitle=f"{f.title} · {n_line(f.funnel, t, group)}"
            ),
        )
        if flow.scores is not None:
            table = flow.scores
            add(
                table.name,
                table.title,
                lambda x=table: ch.table_chart(x, group, t, subtitle=subtitle),
            )
    for flow in results.flows:
        add(flow.participation.name, flow.title, lambda f=flow: _participation_chart(f, t))
        for table in flow.questions:
            if _charted(table):
                add(
                    table.name,
                    table.title,
                    lambda x=table, f=flow: ch.table_chart(
                        x, group, t, subtitle=f"{f.title} · {subtitle} · {n_line(x, t, group)}"
                    ),
                )
        if flow.months is not None:
            table = flow.months
            add(
                table.name,
                table.title,
                lambda x=table, f=flow: ch.table_chart(x, TOTAL, t, subtitle=f.title),
            )
    for table in results.sections:
        add(table.name, table.title, lambda x=table: ch.table_chart(x, group, t, subtitle=subtitle))
    return made


# ---- the folder ------------------------------------------------------------------------


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def cell_text(table: Table, line: Line, j: int, t: Translator) -> str:
    """A count with its share of the base beside it (`12 (40%)`), or the words for a
    hidden one; a share only where both numbers are shown."""
    cell = line.cells[j]
    share = table.percent(line, j) if line is not table.base else None
    return cell.text(t) if share is None else f"{cell.text(t)} ({share}%)"


def n_line(table: Table, t: Translator, group: str = TOTAL) -> str:
    """`n = 123`: the people a table is about (empty when it has no base)."""
    keys = [g.key for g in table.groups]
    cell = table.n(group if group in keys else keys[-1])
    if cell is None:
        return ""
    return t.gettext("n = {n}").format(n=cell.text(t))


def _rows(table: Table, t: Translator) -> tuple[list[str], list[list[str]]]:
    """A table as text: header and rows, suppressed cells in words."""
    header = [""] + [g.label for g in table.groups]
    if table.kind == "comparison":
        header.append(t.gettext("Change"))
    body: list[list[str]] = []
    lines = list(table.lines)
    if table.base is not None and table.base not in lines:
        lines = [table.base, *lines]
    for line in lines:
        cells = [cell_text(table, line, j, t) for j in range(len(line.cells))]
        if line.means is not None:
            cells = [
                f"{mean:.1f} ({cell.text(t)})" if mean is not None else cell.text(t)
                for mean, cell in zip(line.means, line.cells, strict=True)
            ]
        row = [line.label, *cells]
        if table.kind == "comparison":
            row.append(change(line.cells[0], line.cells[1], t))
        body.append(row)
    return header, body


def _markdown_table(table: Table, t: Translator) -> list[str]:
    header, body = _rows(table, t)
    out = [
        "| " + " | ".join(_md(h) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
    return out


def _write_csv(table: Table, path: Path, t: Translator) -> None:
    header = [""] + [g.label for g in table.groups]
    lines = list(table.lines)
    if table.base is not None and table.base not in lines:
        lines = [table.base, *lines]
    body = [[line.label, *(c.text(t) for c in line.cells)] for line in lines]
    header[0] = t.gettext("Answer") if table.kind not in ("comparison",) else ""
    if table.kind == "comparison":
        header.append(t.gettext("Change"))
        for row, line in zip(body, lines, strict=True):
            row.append(change(line.cells[0], line.cells[1], t))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)


def _scope_line(results: Results, t: Translator) -> str:
    scope = results.scope
    parts = []
    if scope.neighbourhoods is not None:
        names = [g.label for g in results.groups if g.key != TOTAL]
        parts.append(t.gettext("Neighbourhoods: {names}").format(names=", ".join(names)))
    else:
        parts.append(t.gettext("All neighbourhoods"))
    if scope.age_group is not None:
        parts.append(t.gettext("Age group: {value}").format(value=results.age_label))
    if scope.period.since or scope.period.until:
        parts.append(t.gettext("Period: {period}").format(period=scope.period.label))
    return " · ".join(parts)


def write_report(results: Results, folder: Path, t: Translator, *, title: str = "") -> list[Path]:
    """Write report.md, the charts (PNG) and the tables (CSV) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    tables_dir = folder / "tables"
    tables_dir.mkdir(exist_ok=True)
    written: list[Path] = []
    made = {chart.name: chart for chart in charts(results, t)}
    for chart in made.values():
        path = folder / chart.filename
        path.write_bytes(chart.png)
        written.append(path)

    md: list[str] = [f"# {title or t.gettext('Results')}", ""]
    generated = results.generated_at or datetime.now()
    md.append(_scope_line(results, t))
    md.append("")
    md.append(t.gettext("Made on {date}.").format(date=generated.strftime("%Y-%m-%d %H:%M")))
    md.append("")
    md.append(
        "> "
        + t.gettext(
            'Groups of fewer than {n} people are shown as "fewer than 5". Where a '
            'small group could be worked out from a total, another number is "not shown".'
        ).format(n=MIN_GROUP)
    )
    md.append("")

    def emit(table: Table, level: str = "###") -> None:
        md.append(f"{level} {table.title}")
        md.append("")
        if n := n_line(table, t):
            md.append(n)
            md.append("")
        md.extend(_markdown_table(table, t))
        md.append("")
        if table.note:
            md.append(f"_{table.note}_")
            md.append("")
        path = tables_dir / f"{table.name}.csv"
        _write_csv(table, path, t)
        written.append(path)
        if table.name in made:
            md.append(f"![{_md(table.title)}]({made[table.name].filename})")
            md.append("")

    if results.comparison and results.periods:
        first, second = results.periods
        md.append(
            "## "
            + t.gettext("Compared: {first} and {second}").format(
                first=first.label, second=second.label
            )
        )
        md.append("")
        for table in results.comparison:
            emit(table)
    if not results.flows:
        md.append(t.gettext("No answers in this period."))
        md.append("")
    for flow in results.flows:
        md.append(f"## {flow.title}")
        md.append("")
        participation = flow.participation
        md.extend(_markdown_table(participation, t))
        md.append("")
        _write_csv(participation, tables_dir / f"{participation.name}.csv", t)
        written.append(tables_dir / f"{participation.name}.csv")
        if participation.name in made:
            md.append(f"![{_md(flow.title)}]({made[participation.name].filename})")
            md.append("")
        emit(flow.funnel)
        if flow.themes is not None:
            emit(flow.themes)
        if flow.scores is not None:
            emit(flow.scores)
        for table in flow.questions:
            emit(table)
        for texts in flow.texts:
            md.append(f"### {texts.question} — {texts.group.label}")
            md.append("")
            md.extend(f"- {_md(text.with_language())}" for text in texts.texts)
            md.append("")
        if flow.months is not None:
            emit(flow.months)
        if flow.weeks is not None:
            emit(flow.weeks)
    if results.sections:
        md.append("## " + t.gettext("Invitations and RSVPs"))
        md.append("")
        for table in results.sections:
            emit(table)
    elif "invitations" in results.skipped_sections:
        md.append("## " + t.gettext("Invitations and RSVPs"))
        md.append("")
        md.append(t.gettext("Not available yet: there are no activities in this database."))
        md.append("")
    report = folder / "report.md"
    report.write_text("\n".join(md), encoding="utf-8")
    written.insert(0, report)
    return written


# ---- chat ------------------------------------------------------------------------------


def _words(cell: Cell, t: Translator) -> str:
    return cell.text(t)


def summary(results: Results, t: Translator) -> list[str]:
    """The results as short chat messages (each under Telegram's length limit)."""
    group = focus(results)
    parts: list[str] = []
    head = [t.gettext("Results for {scope}").format(scope=_group_label(results))]
    if results.scope.period.label:
        head.append(t.gettext("Period: {period}").format(period=results.scope.period.label))
    head.append(t.gettext('Groups of fewer than 5 people are shown as "fewer than 5".'))
    parts.append("\n".join(head))
    for table in results.comparison:
        line = next((ln for ln in table.lines if ln.key == group), None)
        if line is None:
            continue
        before, after = line.cells
        difference = change(before, after, t)
        parts.append(
            f"{table.title}\n"
            f"{table.groups[0].label}: {_words(before, t)}\n"
            f"{table.groups[1].label}: {_words(after, t)}"
            + (f" ({difference})" if difference else "")
        )
    for flow in results.flows:
        j = flow.participation.column(group)
        lines = [f"*{flow.title}*"]
        lines.append(
            t.gettext("People who answered: {n}").format(
                n=_words(flow.participation.lines[0].cells[j], t)
            )
        )
        for line in flow.funnel.lines:
            if not line.key.startswith("stop:"):
                lines.append(f"{line.label}: {cell_text(flow.funnel, line, j, t)}")
        stops = [
            ln
            for ln in flow.funnel.lines
            if ln.key.startswith("stop:") and ln.cells[j].shown and ln.cells[j].value
        ]
        if stops:
            most = max(stops, key=lambda ln: ln.cells[j].value or 0)
            lines.append(most.label + f" ({_words(most.cells[j], t)})")
        if flow.themes is not None:
            lines.append(t.gettext("Top themes:"))
            for number, line in enumerate(flow.themes.lines, start=1):
                lines.append(f"{number}. {line.label}: {_words(line.cells[j], t)}")
        if flow.scores is not None:
            for line in flow.scores.lines:
                mean = line.means[j] if line.means else None
                shown = f"{mean:.1f}" if mean is not None else _words(line.cells[j], t)
                lines.append(f"{line.label}: {shown}")
        for texts in flow.texts:
            lines.append("")
            lines.append(f"{texts.question} ({texts.group.label}, {texts.count}):")
            for text in texts.texts[:CHAT_TEXTS]:
                short = text.text if len(text.text) <= 200 else text.text[:199] + "…"
                lines.append(f"– {replace(text, text=short).with_language()}")
        parts.append("\n".join(lines))
    # Join into as few messages as fit.
    messages: list[str] = []
    for part in parts:
        if messages and len(messages[-1]) + len(part) + 2 <= MAX_MESSAGE:
            messages[-1] += "\n\n" + part
        else:
            messages.append(part[:MAX_MESSAGE])
    return messages


async def results_messages(
    database: Database,
    *,
    library: FlowLibrary,
    deployment: Deployment,
    translator: Translator,
    neighbourhoods: Sequence[str] | None,
    flow: str | None = None,
    compare: str | None = "this-month",
    timezone: str = "Europe/Amsterdam",
    max_charts: int = 6,
) -> list[Outgoing]:
    """`/results` for a worker of `neighbourhoods`: text messages, then charts as PNG.

    The caller has checked the worker's neighbourhoods (None or empty: a worker for the
    whole town, so every neighbourhood); their free-text answers are included (for
    groups of at least 5 people). `compare` is `this-month` (against last
    month), a range `A..B`, two ranges `A..B,C..D`, or None.
    """
    zone = ZoneInfo(timezone)
    periods = parse_compare(compare, zone) if compare else None
    if not neighbourhoods:
        neighbourhoods = [n.key for n in deployment.neighbourhoods]
    scope = Scope(
        neighbourhoods=tuple(neighbourhoods),
        flow=flow,
        free_text=frozenset(neighbourhoods),
    )
    results = await database.in_thread(
        lambda sync: aggregate(
            sync,
            library=library,
            deployment=deployment,
            translator=translator,
            scope=scope,
            compare=periods,
            timezone=timezone,
        )
    )
    made = await asyncio.to_thread(charts, results, translator, limit=max_charts)
    out: list[Outgoing] = [Say(text) for text in summary(results, translator)]
    out += [
        Document(chart.filename, chart.png, caption=chart.title, mime_type="image/png")
        for chart in made
    ]
    return out
