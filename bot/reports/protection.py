"""Small-group protection: which cells of a table of counts of people are shown.

The method is *cell suppression with an audit* (as Statistics Netherlands' τ-ARGUS does
it): first every count of 1 to 4 people is hidden (primary suppression), and in a group
(a neighbourhood) of fewer than 5 people every cell is. Then the table is attacked the
way a reader would: every line whose total is shown says that its cells add up to it
(a row of neighbourhoods adds up to the town's total, the answers to a single-choice
question add up to the people who answered it), and a reader knows what a hidden cell
can be (1 to 4 for "fewer than 5", 5 or more for "not shown", 0 to 4 in a small group).
For every hidden cell, the smallest and largest value that fits all those sums is found
by linear programming (HiGHS, through its own `highspy`: one program a table, solved again
for each cell with another aim, from where the last solve ended). Where they are equal the cell is
determined, so the smallest shown count it adds up with is hidden too (secondary
suppression), and the audit runs again, until no hidden cell can be worked out.

A `Cell` that is not shown does not carry its number, so nothing downstream (a
table, a chart, an export, the dashboard) can show it by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import highspy
import numpy as np

from bot.i18n.translator import Translator

MIN_GROUP = 5
"""The smallest number of people a report shows."""

SHOWN, SMALL, HIDDEN = "shown", "small", "hidden"

Position = tuple[int, int]


@dataclass(frozen=True)
class Cell:
    """A number of people, or the mark that it is not shown (and then no number)."""

    value: int | None
    status: str = SHOWN

    @property
    def shown(self) -> bool:
        return self.status == SHOWN

    @classmethod
    def of(cls, n: int) -> Cell:
        return cls(n) if n == 0 or n >= MIN_GROUP else cls(None, SMALL)

    def text(self, t: Translator) -> str:
        if self.status == SMALL:
            return t.gettext("fewer than 5")
        if self.status == HIDDEN:
            return t.gettext("not shown")
        return str(self.value)


@dataclass(frozen=True)
class Sum:
    """`whole` is the sum of `parts` (positions in the grid)."""

    whole: Position
    parts: tuple[Position, ...]


def bounds(
    status: str, value: int, small_group: bool, base: bool = False
) -> tuple[float, float | None]:
    """What a reader knows a cell is, from how it is shown (the base of a small group,
    its people, is at least 1: an empty group shows 0)."""
    if status == SHOWN:
        return value, value
    if small_group:
        return (1 if base and value > 0 else 0), MIN_GROUP - 1
    if status == SMALL:
        return 1, MIN_GROUP - 1
    return MIN_GROUP, None


def _box(
    grid: Sequence[Sequence[int]],
    status: Sequence[Sequence[str]],
    p: Position,
    small_groups: frozenset[int],
    base_row: int | None,
) -> tuple[float, float | None]:
    """What a reader knows of cell `p`; in a line of which nothing is shown, "fewer
    than 5" may be 0 (a line of zeros and small numbers is hidden whole)."""
    i, j = p
    lo, hi = bounds(status[i][j], grid[i][j], j in small_groups, i == base_row)
    if status[i][j] == SMALL and len(status[i]) > 1 and all(x != SHOWN for x in status[i]):
        lo = 0
    return lo, hi


def ranges(
    grid: Sequence[Sequence[int]],
    status: Sequence[Sequence[str]],
    sums: Sequence[Sum],
    small_groups: frozenset[int] = frozenset(),
    only: set[Position] | None = None,
    base_row: int | None = None,
    *,
    wide_enough: float | None = None,
) -> dict[Position, tuple[float, float]]:
    """The attack: for each hidden cell in a sum, the smallest and largest value it can
    have given every shown number and every sum (exact, by linear programming).

    With `wide_enough`, a cell only needs to be shown to range at least that far: a
    few tables that fit (linear programs with seeded random aims) are made first, and a
    cell whose values in them differ by that much gets that range (a part of its true
    range) without two linear programs of its own. On a large table most hidden cells
    are settled so, with a handful of programs instead of two a cell."""
    hidden = sorted({p for s in sums for p in (s.whole, *s.parts) if status[p[0]][p[1]] != SHOWN})
    if not hidden:
        return {}
    index = {p: k for k, p in enumerate(hidden)}
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for s in sums:
        row = np.zeros(len(hidden))
        constant = 0.0
        for p, sign in [(s.whole, -1.0)] + [(q, 1.0) for q in s.parts]:
            if p in index:
                row[index[p]] += sign
            else:
                constant += sign * grid[p[0]][p[1]]
        if row.any():
            rows.append(row)
            rhs.append(-constant)
    zero = _known_zero(grid, status, sums)
    box = [
        (0, 0) if (i, j) in zero else _box(grid, status, (i, j), small_groups, base_row)
        for i, j in hidden
    ]
    found: dict[Position, tuple[float, float]] = {}
    if not rows:
        return {
            p: (lo, hi if hi is not None else float("inf"))
            for p, (lo, hi) in zip(hidden, box, strict=True)
        }
    a = np.array(rows)
    b = np.array(rhs)
    program = _Program(a, b, box)
    wanted = [k for k, p in enumerate(hidden) if only is None or p in only]
    if wide_enough is not None:
        low_seen = np.full(len(hidden), np.inf)
        high_seen = np.full(len(hidden), -np.inf)
        rng = np.random.default_rng(0)
        while len(wanted) > PROBES:
            solutions = _probe(program, wanted, rng)
            if not solutions:
                break
            for x in solutions:
                low_seen, high_seen = np.minimum(low_seen, x), np.maximum(high_seen, x)
            settled = [k for k in wanted if high_seen[k] - low_seen[k] >= wide_enough]
            for k in settled:
                found[hidden[k]] = (float(low_seen[k]), float(high_seen[k]))
            if len(settled) < len(wanted) // 10 + 1:
                break  # the rest are (nearly) fixed: their own programs tell
            wanted = [k for k in wanted if k not in set(settled)]
    for k in wanted:
        p = hidden[k]
        if not a[:, k].any():
            lo, hi = box[k]
            found[p] = (lo, hi if hi is not None else float("inf"))
            continue
        c = np.zeros(len(hidden))
        c[k] = 1.0
        low = program.solve(c)
        high = program.solve(-c)
        lo = low[0] if low is not None else box[k][0]
        hi = -high[0] if high is not None else float("inf")
        found[p] = (lo, hi)
    return found


class _Program:
    """The sums as one linear program (`a @ x == b` within `box`), solved for one aim
    after another; HiGHS starts each solve from where the last one ended."""

    def __init__(self, a: np.ndarray, b: np.ndarray, box: list[tuple[float, float | None]]):
        self.size = a.shape[1]
        # The base class, not `highspy.Highs`: that one prints HiGHS's banner on stdout
        # (into the terminal chat, a report's output) before its output can be switched
        # off, and sets up callbacks this does not use (a third of the time of a solve).
        self.highs = highspy._Highs()
        self.highs.setOptionValue("output_flag", False)
        program = highspy.HighsLp()
        program.num_col_, program.num_row_ = self.size, a.shape[0]
        program.col_cost_ = np.zeros(self.size)
        program.col_lower_ = np.array([lo for lo, _ in box], dtype=float)
        program.col_upper_ = np.array(
            [highspy.kHighsInf if hi is None else hi for _, hi in box], dtype=float
        )
        program.row_lower_ = program.row_upper_ = b.astype(float)
        columns = [np.flatnonzero(a[:, k]) for k in range(self.size)]
        program.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        program.a_matrix_.start_ = np.cumsum([0, *(len(c) for c in columns)]).astype(np.int32)
        program.a_matrix_.index_ = np.concatenate(columns).astype(np.int32)
        program.a_matrix_.value_ = np.concatenate([a[c, k] for k, c in enumerate(columns)]).astype(
            float
        )
        self.highs.passModel(program)
        self.every = np.arange(self.size, dtype=np.int32)

    def solve(self, aim: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The smallest `aim @ x` and an `x` that has it; None when there is none
        (no table fits, or `aim @ x` has no smallest value)."""
        self.highs.changeColsCost(self.size, self.every, aim.astype(float))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        value = self.highs.getInfo().objective_function_value
        return value, np.array(self.highs.getSolution().col_value)


PROBES = 6


def _probe(program: _Program, cells: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """A few tables that fit every sum, each pushing the `cells` up or down at random
    (seeded: the same every run)."""
    solutions = []
    for _ in range(PROBES):
        aim = np.zeros(program.size)
        aim[cells] = rng.choice([-1.0, 1.0], len(cells))
        made = program.solve(aim)
        if made is not None:
            solutions.append(made[1])
    return solutions


def _known_zero(
    grid: Sequence[Sequence[int]], status: Sequence[Sequence[str]], sums: Sequence[Sum]
) -> set[Position]:
    """Hidden cells of a sum whose whole is shown as 0: everybody reads them as 0 from
    that one number (nobody in town chose it), so telling them is no leak."""
    return {
        p
        for s in sums
        if status[s.whole[0]][s.whole[1]] == SHOWN and grid[s.whole[0]][s.whole[1]] == 0
        for p in s.parts
        if status[p[0]][p[1]] != SHOWN
    }


def _determined(
    grid: Sequence[Sequence[int]],
    status: Sequence[Sequence[str]],
    sums: Sequence[Sum],
    small_groups: frozenset[int],
    base_row: int | None,
) -> list[Position]:
    zero = _known_zero(grid, status, sums)
    # Cheap first: a sum with exactly one hidden cell gives it away.
    quick = []
    for s in sums:
        cells = [s.whole, *s.parts]
        hidden = [p for p in cells if status[p[0]][p[1]] != SHOWN and p not in zero]
        if len(hidden) == 1:
            quick.append(hidden[0])
    if quick:
        return sorted(set(quick))
    unsure = _uncertain(grid, status, sums, small_groups, zero, base_row)
    if not unsure:
        return []
    return sorted(
        p
        for p, (lo, hi) in ranges(
            grid, status, sums, small_groups, only=unsure, base_row=base_row, wide_enough=0.5
        ).items()
        if hi - lo < 0.5 and p not in zero
    )


def _uncertain(
    grid: Sequence[Sequence[int]],
    status: Sequence[Sequence[str]],
    sums: Sequence[Sum],
    small_groups: frozenset[int],
    zero: set[Position],
    base_row: int | None,
) -> set[Position]:
    """The hidden cells not shown to be safe by a quick proof: another table that fits
    every shown number and sum, made by moving one person between two or four hidden
    cells (+1 here, -1 there). Only the rest need the linear programs."""
    member: dict[Position, list[tuple[int, int]]] = {}
    for k, s in enumerate(sums):
        member.setdefault(s.whole, []).append((k, -1))
        for q in s.parts:
            member.setdefault(q, []).append((k, 1))
    hidden = [p for p in member if status[p[0]][p[1]] != SHOWN and p not in zero]
    box = {p: _box(grid, status, p, small_groups, base_row) for p in hidden}

    def fits(move: dict[Position, int]) -> bool:
        residual: dict[int, int] = {}
        for p, d in move.items():
            lo, hi = box[p]
            value = grid[p[0]][p[1]] + d
            if value < lo or (hi is not None and value > hi):
                return False
            for k, sign in member[p]:
                residual[k] = residual.get(k, 0) + sign * d
        return not any(residual.values())

    by_row: dict[int, list[Position]] = {}
    by_col: dict[int, list[Position]] = {}
    for p in hidden:
        by_row.setdefault(p[0], []).append(p)
        by_col.setdefault(p[1], []).append(p)
    safe: set[Position] = set()
    for p in hidden:
        if p in safe:
            continue
        i, j = p
        done = False
        for sign in (1, -1):
            for q in by_row[i]:
                if q == p:
                    continue
                if fits({p: sign, q: -sign}):
                    safe.update((p, q))
                    done = True
                    break
                for r in by_col[q[1]]:
                    if r[0] == i or (r[0], j) not in box:
                        continue
                    s_ = (r[0], j)
                    # A rectangle (+ - + -), or one with q in a total (+ + - -).
                    for a in (-1, 1):
                        move = {p: sign, q: a * sign, r: -a * sign, s_: -sign}
                        if fits(move):
                            safe.update(move)
                            done = True
                            break
                    if done:
                        break
                if done:
                    break
            if done:
                break
    return set(hidden) - safe


def suppress(
    grid: Sequence[Sequence[int]],
    sums: Sequence[Sum] = (),
    *,
    small_groups: frozenset[int] = frozenset(),
    keep: frozenset[Position] = frozenset(),
    base_row: int | None = None,
) -> list[list[Cell]]:
    """Protect a grid of counts of people: `grid[i][j]` is line i in group j.

    `sums` are the additions a reader can rely on; `small_groups` the columns of groups
    of 1 to 4 people (nothing of them is shown), whose people are counted in `base_row`;
    `keep` positions that are never chosen for secondary suppression.

    The same numbers are protected the same way, so the answer is kept by value (most
    of a results page's time was the audit's linear programs, made again for the same
    table on every view and in every language).
    """
    found = _suppressed(tuple(map(tuple, grid)), tuple(sums), small_groups, keep, base_row)
    return [list(row) for row in found]


@lru_cache(maxsize=4096)
def _suppressed(
    grid: tuple[tuple[int, ...], ...],
    sums: tuple[Sum, ...],
    small_groups: frozenset[int],
    keep: frozenset[Position],
    base_row: int | None,
) -> tuple[tuple[Cell, ...], ...]:
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    status = [[SHOWN] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            if j in small_groups or 0 < grid[i][j] < MIN_GROUP:
                status[i][j] = SMALL
    while True:
        determined = _determined(grid, status, sums, small_groups, base_row)
        if not determined:
            break
        progress = False
        for p in determined:
            choice = _partner(grid, status, sums, p, keep)
            if choice is not None:
                status[choice[0]][choice[1]] = HIDDEN
                progress = True
                break
        if not progress:
            # Nothing left to hide beside it (its line shows only zeros): the whole line
            # reads "fewer than 5", zeros too, so no one knows which of it is 0.
            p = determined[0]
            for j in range(cols):
                if status[p[0]][j] == SHOWN:
                    status[p[0]][j] = SMALL if grid[p[0]][j] < MIN_GROUP else HIDDEN
                    progress = True
        if not progress:
            # Its line is hidden already: hide every shown count of its sums.
            for p in determined:
                for s in sums:
                    if p in (s.whole, *s.parts):
                        for q in (s.whole, *s.parts):
                            if status[q[0]][q[1]] == SHOWN and grid[q[0]][q[1]] > 0:
                                status[q[0]][q[1]] = HIDDEN
                                progress = True
            if not progress:
                break
    return tuple(
        tuple(
            Cell(grid[i][j]) if status[i][j] == SHOWN else Cell(None, status[i][j])
            for j in range(cols)
        )
        for i in range(rows)
    )


def _partner(
    grid: Sequence[Sequence[int]],
    status: list[list[str]],
    sums: Sequence[Sum],
    p: Position,
    keep: frozenset[Position],
) -> Position | None:
    """The shown cell to hide with `p`: the smallest positive part of a sum with `p`,
    a whole (a total) only when no part will do."""
    parts: list[Position] = []
    wholes: list[Position] = []
    for s in sums:
        if p not in (s.whole, *s.parts):
            continue
        parts += [q for q in s.parts if q != p]
        if s.whole != p:
            wholes.append(s.whole)
        else:
            parts += []
    for pool in (parts, wholes):
        candidates = [
            q
            for q in pool
            if status[q[0]][q[1]] == SHOWN and grid[q[0]][q[1]] > 0 and q not in keep
        ]
        if candidates:
            return min(candidates, key=lambda q: (grid[q[0]][q[1]], q))
    return None


def table_sums(
    rows: int,
    cols: int,
    *,
    total_col: int | None = None,
    base_row: int | None = None,
    exclusive: bool = False,
) -> list[Sum]:
    """The sums of a usual table: each line's groups add up to its total column; when
    every person is in one line (`exclusive`), each group's lines add up to its base."""
    sums: list[Sum] = []
    if total_col is not None:
        for i in range(rows):
            sums.append(Sum((i, total_col), tuple((i, j) for j in range(cols) if j != total_col)))
    if exclusive and base_row is not None:
        for j in range(cols):
            sums.append(Sum((base_row, j), tuple((i, j) for i in range(rows) if i != base_row)))
    return sums
