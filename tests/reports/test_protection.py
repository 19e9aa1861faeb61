"""The attacks a reader can try on the published numbers, and that they find nothing.

The attacker here is written apart from `bot.reports.protection`: it reads only what a
table shows (numbers, and the words "fewer than 5" / "not shown"), writes down every
sum a reader knows holds (a line's neighbourhoods add up to its total, a single-choice
question's answers to the people who answered it, the funnel's outcomes to the people
who took part), and asks a linear program for the smallest and largest value of each
hidden cell. A hidden cell with one possible value is a leak.
"""

from __future__ import annotations

from gettext import NullTranslations

import numpy as np
import pytest
from scipy.optimize import linprog
from sqlalchemy import Engine

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
)
from bot.reports.protection import Sum, suppress, table_sums
from tests.reports.seed import seed

T = NullTranslations()
EXCLUSIVE = {"choice", "yes_no", "scale", "language", "funnel", "invitations"}
TINY = {"hofkamp": 1, "ossenkoppelerhoek": 2, "haghoek": 3, "de-riet": 4}


def known(cell: Cell, small_group: bool) -> tuple[float, float | None]:
    """What the reader knows of a cell from how it reads."""
    if cell.shown:
        return cell.value, cell.value
    if small_group:
        return 0, 4
    return (1, 4) if cell.status == SMALL else (MIN_GROUP, None)


def sums_of(table: Table) -> list[list[tuple[int, int, float]]]:
    """Each sum as [(line, column, sign)], lines counted with the base as line 0."""
    lines = ([table.base] if table.base is not None else []) + list(table.lines)
    keys = [g.key for g in table.groups]
    found = []
    if TOTAL in keys and table.kind not in ("comparison", "months", "weeks"):
        t = keys.index(TOTAL)
        for i in range(len(lines)):
            found.append([(i, t, -1.0)] + [(i, j, 1.0) for j in range(len(keys)) if j != t])
    if table.base is not None and table.kind in EXCLUSIVE:
        outcome = [i for i, ln in enumerate(lines) if i and not ln.key.startswith("stop:")]
        stops = [i for i, ln in enumerate(lines) if ln.key.startswith("stop:")]
        stopped = next((i for i, ln in enumerate(lines) if ln.key == "stopped"), None)
        for j in range(len(keys)):
            found.append([(0, j, -1.0)] + [(i, j, 1.0) for i in outcome])
            if stopped is not None and stops:
                found.append([(stopped, j, -1.0)] + [(i, j, 1.0) for i in stops])
    return found


def every_leak(results: Results, view: bool = False) -> list[str]:
    """The leaks in every table; a flow's small groups are those its participation
    shows as "fewer than 5" (as a reader sees them)."""
    found = []
    for flow in results.flows:
        cells = flow.participation.lines[0].cells
        small = {j for j, c in enumerate(cells) if c.status == SMALL}
        for table in flow.tables():
            found += leaks(table, view, small)
    for table in [*results.sections, *results.comparison]:
        found += leaks(table, view)
    return found


def leaks(table: Table, view: bool = False, small: set[int] | None = None) -> list[str]:
    """The hidden cells of `table` whose value can be worked out. In a `view` (some
    neighbourhoods), "fewer than 5" in their total may be 0 (a small group in it)."""
    lines = ([table.base] if table.base is not None else []) + list(table.lines)
    small_groups = set(small or ())
    if small is None and table.base is not None:
        small_groups = {j for j, c in enumerate(table.base.cells) if c.status == SMALL}
    hidden = sorted(
        {(i, j) for i, ln in enumerate(lines) for j, c in enumerate(ln.cells) if not c.shown}
    )
    if not hidden:
        return []
    index = {p: k for k, p in enumerate(hidden)}
    a, b = [], []
    for terms in sums_of(table):
        row = np.zeros(len(hidden))
        constant = 0.0
        for i, j, sign in terms:
            cell = lines[i].cells[j]
            if cell.shown:
                constant += sign * (cell.value or 0)
            else:
                row[index[(i, j)]] += sign
        if row.any():
            a.append(row)
            b.append(-constant)
    if not a:
        return []
    keys = [g.key for g in table.groups]
    t = keys.index(TOTAL) if TOTAL in keys and table.kind not in ("comparison",) else None
    # A line whose total reads 0 says each of its cells is 0: no leak, but known.
    zero = {(i, j) for i, j in hidden if t is not None and lines[i].cells[t] == Cell(0)}

    def box_of(people_at_least: int) -> list[tuple[float, float | None]]:
        return [
            (0, 0)
            if (i, j) in zero
            else (0, 4)
            if view and j == t and lines[i].cells[j].status == SMALL
            else (people_at_least, 4)
            if i == 0 and j in small_groups and table.base is not None
            else (0, 4)
            if len(lines[i].cells) > 1
            and all(not c.shown for c in lines[i].cells)
            and lines[i].cells[j].status == SMALL
            else known(lines[i].cells[j], j in small_groups)
            for i, j in hidden
        ]

    # A small group's base is its people (1 to 4) where the table is about all of them;
    # a question's base may be 0 of them.
    box = box_of(1 if table.kind in ("funnel", "participation", "invitations") else 0)
    found = []
    for k, (i, j) in enumerate(hidden):
        if not np.array(a)[:, k].any() or (i, j) in zero:
            continue
        c = np.zeros(len(hidden))
        c[k] = 1
        low = linprog(c, A_eq=np.array(a), b_eq=np.array(b), bounds=box, method="highs")
        high = linprog(-c, A_eq=np.array(a), b_eq=np.array(b), bounds=box, method="highs")
        assert low.status == 0, f"{table.name}: the published sums do not hold"
        if high.status == 0 and -high.fun - low.fun < 0.5:
            found.append(f"{table.name}: {lines[i].label} / {table.groups[j].label} = {low.fun}")
    return found


def run(engine: Engine, library: FlowLibrary, deployment: Deployment, scope: Scope) -> Results:
    with engine.connect() as connection:
        return aggregate(
            connection,
            library=library,
            deployment=deployment,
            translator=T,
            scope=scope,
            timezone="Europe/Amsterdam",
        )


# ---- the method on small tables -----------------------------------------------------------


def test_the_issue_example_is_not_undone_by_subtraction() -> None:
    # Sport en spel: 7 | 5 | 5 | 1 | 0 | 0 | 1 | 1 | total 20: 20 - 17 = 3 over three
    # hidden cells of at least 1 each gave each away.
    row = [7, 5, 5, 1, 0, 0, 1, 1, 20]
    [cells] = suppress([row], table_sums(1, 9, total_col=8))
    hidden = [c for c in cells if not c.shown]
    assert len(hidden) >= 4 and any(c.status == HIDDEN for c in hidden)
    table = Table("t", "t", [], [])
    assert cells[8].shown or cells[8].status == HIDDEN
    del table


def test_two_hidden_cells_of_one_each_in_a_column_are_not_enough() -> None:
    # A single-choice question: 12 people = 10 + 1 + 1: both hidden, yet both 1.
    grid = [[12], [10], [1], [1]]
    cells = suppress(grid, table_sums(4, 1, base_row=0, exclusive=True))
    assert not cells[1][0].shown  # the 10 goes too


def test_a_small_group_shows_nothing_not_even_zero() -> None:
    grid = [[3, 20, 23], [0, 12, 12], [3, 8, 11]]
    cells = suppress(
        grid, table_sums(3, 3, total_col=2, base_row=0, exclusive=True), small_groups=frozenset({0})
    )
    assert all(row[0].status == SMALL for row in cells)


def test_sums_over_several_lines_are_checked_together() -> None:
    grid = [[30, 30, 60], [28, 2, 30], [2, 28, 30]]
    sums = table_sums(3, 3, total_col=2, base_row=0, exclusive=True)
    cells = suppress(grid, sums)
    table = Table(
        "x",
        "x",
        [_group("a"), _group("b"), _group(TOTAL)],
        [_line("1", cells[1]), _line("2", cells[2])],
        base=_line("n", cells[0]),
        kind="choice",
    )
    assert leaks(table) == []
    assert extra_sum_check(grid, sums)


def extra_sum_check(grid: list[list[int]], sums: list[Sum]) -> bool:
    return all(grid[s.whole[0]][s.whole[1]] == sum(grid[i][j] for i, j in s.parts) for s in sums)


def _group(key: str):
    from bot.reports.aggregate import Group

    return Group(key, key)


def _line(key: str, cells: list[Cell]):
    from bot.reports.aggregate import Line

    return Line(key, key, cells)


# ---- on seeded data -----------------------------------------------------------------------


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_no_hidden_number_can_be_worked_out(
    seed_value: int, db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seed(db_url, participants=45, small=0, seed_value=seed_value, sizes=TINY, finish_rate=0.6)
    town = run(engine, library, deployment, Scope())
    found = every_leak(town)
    assert found == [], "\n".join(found)
    # A neighbourhood of 1 to 4 people in a table shows no number in it, not even 0.
    for key in TINY:
        j = [g.key for g in town.groups].index(key)
        for table in town.tables():
            if table.base is None or table.groups != town.groups:
                continue
            base = table.base.cells[j]
            assert base.shown == (base.value == 0 or (base.value or 0) >= MIN_GROUP)
            if not base.shown:
                assert all(not line.cells[j].shown for line in table.lines), table.name
    # The same people seen by a worker of two neighbourhoods (`/results`): each cell
    # as in the town's report, their total only where it tells nothing new.
    worker = run(engine, library, deployment, Scope(neighbourhoods=("centrum", "haghoek")))
    for flow in worker.flows:
        whole = town.flow(flow.flow_id)
        assert whole is not None
        theirs_by_name = {t.name: t for t in whole.tables()}
        for mine in flow.tables():
            if mine.kind in ("months", "weeks", "themes", "scores"):
                continue
            theirs = theirs_by_name[mine.name]
            for a, b in zip(
                [*mine.lines, *([mine.base] if mine.base else [])],
                [*theirs.lines, *([theirs.base] if theirs.base else [])],
                strict=True,
            ):
                for k, key in enumerate(("centrum", "haghoek")):
                    assert a.cells[k] == b.cells[theirs.column(key)]
                total = a.cells[2]
                assert total.shown == (a.cells[0].shown and a.cells[1].shown)
    assert every_leak(worker, view=True) == []
    # Tables about the same people show the same cells.
    for flow in town.flows:
        assert flow.participation.lines[0] is flow.funnel.base
        if flow.themes is not None:
            question = flow.question(flow.themes.step)
            assert question is not None
            assert all(line in question.lines for line in flow.themes.lines)
