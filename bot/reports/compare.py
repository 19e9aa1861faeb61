"""Two periods side by side: people who answered and who completed, per neighbourhood.

Each period is counted and protected on its own (as a report for that period would
be), and the comparison shows those cells, so it shows nothing a report of either
period would not. A change against 0 reads "new" instead of a percentage.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n.translator import Translator
from bot.reports.model import Group, Line, Table
from bot.reports.periods import Period
from bot.reports.protection import Cell


def comparison(
    flow_id: str,
    title: str,
    periods: tuple[Period, Period],
    tables: tuple[Table | None, Table | None],
    pick: Callable[[Table], Line | None],
    groups: list[Group],
    name: str,
) -> Table:
    """A table of `groups` (as lines) by the two periods, from the two periods' tables."""
    columns = [Group("a", periods[0].label), Group("b", periods[1].label)]
    per_period: list[list[Cell]] = []
    for table in tables:
        line = pick(table) if table is not None else None
        if line is None:
            per_period.append([Cell(0)] * len(groups))
        else:
            assert table is not None
            keys = {g.key for g in table.groups}
            per_period.append(
                [line.cells[table.column(g.key)] if g.key in keys else Cell(0) for g in groups]
            )
    lines = [
        Line(g.key, g.label, [per_period[0][j], per_period[1][j]]) for j, g in enumerate(groups)
    ]
    return Table(name, title, columns, lines, kind="comparison", flow=flow_id)


def change(before: Cell, after: Cell, t: Translator | None = None) -> str:
    """`+25%`, `-10%`; "new" when the first is 0 and the second is not; empty when
    either number is not shown."""
    if not (before.shown and after.shown):
        return ""
    assert before.value is not None and after.value is not None
    if before.value == 0:
        if after.value == 0:
            return ""
        return t.gettext("new") if t is not None else "new"
    percent = round(100 * (after.value - before.value) / before.value)
    return f"{percent:+d}%"
