"""What a report holds: tables of protected cells, by flow, with their scope.

These are the types every reader of results uses (the report folder, `/results` in chat,
the exports and the dashboard): a `Table` has `lines` (answers, steps, months) by
`groups` (neighbourhoods, then their total), each cell already protected (see
`bot.reports.protection`), so whoever draws or prints it cannot show a small group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.flows.steps.language import language_name
from bot.reports.periods import Period
from bot.reports.protection import Cell

TOTAL = "*"
"""The key of the total column."""
ALL_TIME = Period(None, None, "")


@dataclass(frozen=True)
class Scope:
    """What to show: some neighbourhoods (None: all), a flow (None: all residents'
    flows), a period, an age group (None: everyone; "" the people whose age group is
    not known).

    `free_text` names the neighbourhoods whose free-text answers may be shown (those of
    the worker asking); empty for everyone else.
    """

    neighbourhoods: tuple[str, ...] | None = None
    flow: str | None = None
    period: Period = ALL_TIME
    free_text: frozenset[str] = frozenset()
    age_group: str | None = None


@dataclass(frozen=True)
class Group:
    key: str
    label: str


@dataclass
class Line:
    key: str
    label: str
    cells: list[Cell]
    means: list[float | None] | None = None


@dataclass
class Table:
    """Lines (answers, steps, months) by groups (neighbourhoods and their total).

    `base` is the line of the people the table is about (n), when there is one: the
    people who answered a question, or who took part in a flow. `flow` and `step` say
    what it is about, for whoever looks a table up (the dashboard).
    """

    name: str
    title: str
    groups: list[Group]
    lines: list[Line]
    base: Line | None = None
    kind: str = ""
    note: str = ""
    scale_max: float | None = None  # the end of the scale, for averages
    flow: str = ""
    step: str = ""

    def column(self, key: str) -> int:
        return next(i for i, g in enumerate(self.groups) if g.key == key)

    def n(self, key: str = TOTAL) -> Cell | None:
        """The number of people in the table for a group (None: the table has no base)."""
        if self.base is None or key not in [g.key for g in self.groups]:
            return None
        return self.base.cells[self.column(key)]

    def percent(self, line: Line, j: int) -> int | None:
        """A cell as a whole percentage of its base, only when both are shown."""
        if self.base is None:
            return None
        cell, base = line.cells[j], self.base.cells[j]
        if not (cell.shown and base.shown) or not base.value or cell.value is None:
            return None
        return round(100 * cell.value / base.value)


@dataclass(frozen=True)
class FreeText:
    """One free-text answer as shown (`(×3)` when several people wrote it), with the
    language it was written in, so a reader knows which language it is in."""

    text: str
    language: str | None

    @property
    def language_name(self) -> str:
        """The language in its own name (`Türkçe`), as the bot offers it; empty if unknown."""
        return language_name(self.language) if self.language else ""

    def with_language(self) -> str:
        """`Een moestuin (Nederlands)`: the text and the language it was written in."""
        return f"{self.text} ({self.language_name})" if self.language else self.text


@dataclass
class Texts:
    """Free-text answers to one question in one neighbourhood (for its workers only)."""

    step: str
    question: str
    group: Group
    count: int
    texts: list[FreeText]


@dataclass
class FlowResult:
    flow_id: str
    title: str
    participation: Table
    funnel: Table
    questions: list[Table]
    themes: Table | None
    scores: Table | None
    months: Table | None
    texts: list[Texts]
    weeks: Table | None = None

    def tables(self) -> list[Table]:
        """Every table of the flow, in the report's order."""
        found = [self.participation, self.funnel]
        found += [t for t in (self.themes, self.scores) if t is not None]
        found += self.questions
        found += [t for t in (self.months, self.weeks) if t is not None]
        return found

    def question(self, step_key: str) -> Table | None:
        return next((t for t in self.questions if t.step == step_key), None)


@dataclass
class Results:
    scope: Scope
    groups: list[Group]
    flows: list[FlowResult]
    sections: list[Table] = field(default_factory=list)
    skipped_sections: list[str] = field(default_factory=list)
    comparison: list[Table] = field(default_factory=list)
    periods: tuple[Period, Period] | None = None
    generated_at: datetime | None = None
    age_label: str = ""
    """The age group of `scope` in words ("18 to 27"), when there is one."""

    def flow(self, flow_id: str) -> FlowResult | None:
        return next((f for f in self.flows if f.flow_id == flow_id), None)

    def tables(self) -> list[Table]:
        """Every table, flows first, then the sections and the comparison."""
        found = [t for f in self.flows for t in f.tables()]
        return found + list(self.sections) + list(self.comparison)
