"""Results per neighbourhood and flow, with every small group suppressed.

One pass over the answers in scope (streamed, so the size of the database does not
matter) counts *people*: for every flow, how many answered, how many gave each answer
(per neighbourhood and in total), feedback scores, participation per month and, for the
neighbourhoods whose workers may read them, the free-text answers. A second pass over
the conversations gives the funnel: started, completed, and the question after which
people stopped. Anonymised answers (see `bot.privacy.retention`) count as one person
each.

**Small groups.** Any number of people from 1 to 4 is shown as "fewer than 5"
(`MIN_GROUP`), in tables and charts alike: a `Cell` that is not shown does not even
carry its number, so nothing downstream can draw or print it. A group (a neighbourhood)
of fewer than 5 people shows no breakdown at all. Where the total of a row or column is
shown, a single suppressed cell could be worked out by subtraction; then the smallest
other cell of that line is hidden too ("not shown"), until no line has exactly one.

Extra sections (invitations and RSVPs) come from a registry and are skipped when their
tables are not in the database.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, MetaData, inspect, select
from sqlalchemy import Table as SqlTable
from sqlalchemy.sql import ColumnElement

from bot.deployment import Deployment
from bot.flows.labels import SKIPPED, Labels, free_text_of, option_keys
from bot.flows.library import FlowLibrary
from bot.i18n.translator import Translator
from bot.privacy.redact import redact
from bot.reports.periods import Period
from bot.storage.models import Answer, Conversation, Participant

log = logging.getLogger(__name__)

MIN_GROUP = 5
"""The smallest number of people a report shows."""

TOTAL = "*"
ALL_TIME = Period(None, None, "")
SHOWN, SMALL, HIDDEN = "shown", "small", "hidden"
NOT_IN_REPORTS = frozenset({"language", "forget"})
OPTION_KINDS = frozenset(
    {"choice", "multiple_choice", "yes_no", "scale", "neighbourhood", "language"}
)
EXCLUSIVE_KINDS = OPTION_KINDS - {"multiple_choice"}
TOP_THEMES = 5
MAX_TEXTS = 200
MONTHS = 12
BATCH = 2000


# ---- cells and their protection -------------------------------------------------------


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


def protect(
    grid: Sequence[Sequence[int]],
    *,
    bases: Sequence[int] | None = None,
    bases_known: Sequence[bool] | None = None,
    exclusive: bool = False,
    total_col: int | None = None,
) -> list[list[Cell]]:
    """Suppress the small cells of a table of counts of people.

    `grid[i][j]`: people of line i in group j. `bases[j]`: the people of group j (a
    group of 1–4 shows nothing). `exclusive`: every person is in one line of a group,
    so a group's lines add up to its base (when `bases_known[j]`). `total_col`: the group
    that is the total of the others, so each line's groups add up to it.
    """
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    status = [[SHOWN] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            if 0 < grid[i][j] < MIN_GROUP:
                status[i][j] = SMALL
    if bases is not None:
        for j in range(cols):
            if 0 < bases[j] < MIN_GROUP:
                for i in range(rows):
                    status[i][j] = SMALL

    def fix(cells: list[tuple[int, int]]) -> bool:
        unknown = [c for c in cells if status[c[0]][c[1]] != SHOWN and grid[c[0]][c[1]] > 0]
        if len(unknown) != 1:
            return False
        candidates = [c for c in cells if status[c[0]][c[1]] == SHOWN and grid[c[0]][c[1]] > 0]
        if not candidates:
            return False
        i, j = min(candidates, key=lambda c: (grid[c[0]][c[1]], c))
        status[i][j] = HIDDEN
        return True

    changed = True
    while changed:
        changed = False
        if exclusive and bases is not None:
            for j in range(cols):
                known = bases_known[j] if bases_known is not None else bases[j] >= MIN_GROUP
                if known and bases[j] >= MIN_GROUP:
                    changed |= fix([(i, j) for i in range(rows)])
        if total_col is not None:
            for i in range(rows):
                if status[i][total_col] == SHOWN:
                    changed |= fix([(i, j) for j in range(cols) if j != total_col])
    return [
        [
            Cell(grid[i][j]) if status[i][j] == SHOWN else Cell(None, status[i][j])
            for j in range(cols)
        ]
        for i in range(rows)
    ]


# ---- what a report holds -----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What to count: some neighbourhoods (None: all), a flow (None: all), a period.

    `free_text` names the neighbourhoods whose free-text answers may be shown (those of
    the worker asking); empty for everyone else.
    """

    neighbourhoods: tuple[str, ...] | None = None
    flow: str | None = None
    period: Period = ALL_TIME
    free_text: frozenset[str] = frozenset()


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
    """Lines (answers, steps, months) by groups (neighbourhoods and their total)."""

    name: str
    title: str
    groups: list[Group]
    lines: list[Line]
    base: Line | None = None
    kind: str = ""
    note: str = ""
    scale_max: float | None = None  # the end of the scale, for averages

    def column(self, key: str) -> int:
        return next(i for i, g in enumerate(self.groups) if g.key == key)


@dataclass
class Texts:
    """Free-text answers to one question in one neighbourhood (for its workers only)."""

    step: str
    question: str
    group: Group
    count: int
    texts: list[str]


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


# ---- counting ----------------------------------------------------------------------------


def _sets() -> defaultdict[str, set[int]]:
    return defaultdict(set)


@dataclass
class _Step:
    answered: defaultdict[str, set[int]] = field(default_factory=_sets)
    options: defaultdict[str, defaultdict[str, set[int]]] = field(
        default_factory=lambda: defaultdict(_sets)
    )
    sums: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    texts: defaultdict[str, list[tuple[datetime, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


@dataclass
class _Flow:
    people: defaultdict[str, set[int]] = field(default_factory=_sets)
    steps: defaultdict[str, _Step] = field(default_factory=lambda: defaultdict(_Step))
    months: defaultdict[str, set[int]] = field(default_factory=_sets)
    started: defaultdict[str, set[int]] = field(default_factory=_sets)
    completed: defaultdict[str, set[int]] = field(default_factory=_sets)
    stops: defaultdict[str, defaultdict[str, set[int]]] = field(
        default_factory=lambda: defaultdict(_sets)
    )


def _period_filter(column: Any, period: Period) -> list[ColumnElement[bool]]:
    where = []
    if period.since is not None:
        where.append(column >= period.since)
    if period.until is not None:
        where.append(column < period.until)
    return where


def _answers(connection: Connection, scope: Scope) -> Iterable[Any]:
    stmt = select(
        Answer.id,
        Answer.participant_id,
        Answer.flow_id,
        Answer.step_key,
        Answer.value,
        Answer.skipped,
        Answer.neighbourhood,
        Answer.created_at,
    ).where(*_period_filter(Answer.created_at, scope.period))
    if scope.flow:
        stmt = stmt.where(Answer.flow_id == scope.flow)
    else:
        stmt = stmt.where(Answer.flow_id.not_in(NOT_IN_REPORTS))
    if scope.neighbourhoods is not None:
        stmt = stmt.where(Answer.neighbourhood.in_(scope.neighbourhoods))
    return connection.execution_options(yield_per=BATCH).execute(stmt)


def _conversations(connection: Connection, scope: Scope) -> Iterable[Any]:
    last_step = (
        select(Answer.step_key)
        .where(Answer.conversation_id == Conversation.id)
        .order_by(Answer.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            Conversation.participant_id,
            Conversation.flow_id,
            Conversation.status,
            Participant.neighbourhood,
            last_step,
        )
        .join(Participant, Participant.id == Conversation.participant_id)
        .where(*_period_filter(Conversation.started_at, scope.period))
    )
    if scope.flow:
        stmt = stmt.where(Conversation.flow_id == scope.flow)
    else:
        stmt = stmt.where(Conversation.flow_id.not_in(NOT_IN_REPORTS))
    if scope.neighbourhoods is not None:
        stmt = stmt.where(Participant.neighbourhood.in_(scope.neighbourhoods))
    return connection.execution_options(yield_per=BATCH).execute(stmt)


def _count(
    connection: Connection, scope: Scope, labels: Labels, zone: ZoneInfo
) -> tuple[dict[str, _Flow], set[str]]:
    flows: dict[str, _Flow] = defaultdict(_Flow)
    seen: set[str] = set()
    free: dict[tuple[str, str], bool] = {}
    kinds: dict[tuple[str, str], str | None] = {}
    for row in _answers(connection, scope):
        aid, pid, flow_id, step_key, value, skipped, neighbourhood, created_at = row
        person = pid if pid is not None else -aid
        group = neighbourhood or ""
        seen.add(group)
        acc = flows[flow_id]
        for g in (group, TOTAL):
            acc.people[g].add(person)
        acc.months[created_at.astimezone(zone).strftime("%Y-%m")].add(person)
        key = (flow_id, step_key)
        if key not in free:
            free[key] = labels.is_free_text(flow_id, step_key)
            kinds[key] = labels.kind(flow_id, step_key)
        step = acc.steps[step_key]
        for g in (group, TOTAL):
            step.answered[g].add(person)
        if skipped:
            codes = [SKIPPED]
        elif free[key]:
            codes = []
            text = free_text_of(value)
            if text and group in scope.free_text:
                step.texts[group].append((created_at, redact(text)))
        else:
            codes = option_keys(value)
        for code in codes:
            for g in (group, TOTAL):
                step.options[code][g].add(person)
        if kinds[key] == "scale" and not skipped and isinstance(value, int | float):
            for g in (group, TOTAL):
                step.sums[g] += float(value)
                step.counts[g] += 1
    for pid, flow_id, status, neighbourhood, last in _conversations(connection, scope):
        group = neighbourhood or ""
        seen.add(group)
        acc = flows[flow_id]
        for g in (group, TOTAL):
            acc.started[g].add(pid)
            if status == "finished":
                acc.completed[g].add(pid)
            else:
                acc.stops[last or ""][g].add(pid)
    return flows, seen


# ---- building tables ---------------------------------------------------------------------


def _groups(scope: Scope, seen: set[str], labels: Labels, deployment: Deployment) -> list[Group]:
    if scope.neighbourhoods is not None:
        keys = list(scope.neighbourhoods)
    else:
        keys = [n.key for n in deployment.neighbourhoods]
        keys += sorted(k for k in seen if k not in keys and k != "")
        if "" in seen:
            keys.append("")
    groups = [Group(k, labels.neighbourhood(k)) for k in keys]
    if len(groups) != 1:
        groups.append(Group(TOTAL, labels.t.gettext("Total")))
    return groups


class _Builder:
    def __init__(self, groups: list[Group], labels: Labels):
        self.groups = groups
        self.keys = [g.key for g in groups]
        self.total_col = self.keys.index(TOTAL) if TOTAL in self.keys else None
        self.labels = labels
        self.t = labels.t

    def counts(self, sets: dict[str, set[int]]) -> list[int]:
        return [len(sets.get(k, ())) for k in self.keys]

    def line(self, key: str, label: str, sets: dict[str, set[int]]) -> Line:
        cells = protect([self.counts(sets)], total_col=self.total_col)[0]
        return Line(key, label, cells)

    def table(
        self,
        name: str,
        title: str,
        lines: list[tuple[str, str, dict[str, set[int]]]],
        base: Line | None,
        base_counts: list[int] | None,
        exclusive: bool,
        kind: str = "",
    ) -> Table:
        grid = [self.counts(sets) for _, _, sets in lines]
        known = [c.shown for c in base.cells] if base is not None else None
        cells = protect(
            grid,
            bases=base_counts,
            bases_known=known,
            exclusive=exclusive,
            total_col=self.total_col,
        )
        return Table(
            name,
            title,
            self.groups,
            [Line(k, label, row) for (k, label, _), row in zip(lines, cells, strict=True)],
            base=base,
            kind=kind,
        )


def _slug(*parts: str) -> str:
    return "-".join(p.replace("_", "-").replace("/", "-") for p in parts if p)


def _question_table(
    builder: _Builder, flow_id: str, step_key: str, step: _Step, labels: Labels
) -> Table:
    t = builder.t
    kind = labels.kind(flow_id, step_key) or ""
    base_counts = builder.counts(step.answered)
    base = builder.line("answered", t.gettext("People who answered"), step.answered)
    lines: list[tuple[str, str, dict[str, set[int]]]] = []
    if kind in OPTION_KINDS:
        known = labels.options(flow_id, step_key) if kind != "language" else {}
        codes = [c for c in known if c != SKIPPED]
        codes += sorted(c for c in step.options if c not in known and c != SKIPPED)
        step_def = labels.step(flow_id, step_key)
        if SKIPPED in step.options or (step_def is not None and step_def.skippable):
            codes.append(SKIPPED)
        for code in codes:
            lines.append((code, labels.option(flow_id, step_key, code), step.options.get(code, {})))
    elif SKIPPED in step.options:
        lines.append((SKIPPED, labels.option(flow_id, step_key, SKIPPED), step.options[SKIPPED]))
    table = builder.table(
        _slug(flow_id, step_key),
        labels.question(flow_id, step_key),
        lines,
        base,
        base_counts,
        exclusive=kind in EXCLUSIVE_KINDS or kind not in OPTION_KINDS,
        kind=kind or "text",
    )
    if kind == "multiple_choice":
        table.note = t.gettext("People could choose more than one answer.")
    return table


def _scores(builder: _Builder, flow_id: str, acc: _Flow, labels: Labels) -> Table | None:
    scale_steps = [k for k in acc.steps if labels.kind(flow_id, k) == "scale"]
    if not scale_steps:
        return None
    lines = []
    for key in _ordered(labels, flow_id, scale_steps):
        step = acc.steps[key]
        line = builder.line(key, labels.question(flow_id, key), step.answered)
        line.means = [
            round(step.sums[g] / step.counts[g], 1)
            if cell.shown and step.counts.get(g, 0) >= MIN_GROUP
            else None
            for g, cell in zip(builder.keys, line.cells, strict=True)
        ]
        lines.append(line)
    ends = [getattr(labels.step(flow_id, k), "max", None) for k in scale_steps]
    return Table(
        _slug(flow_id, "scores"),
        builder.t.gettext("Feedback scores (average)"),
        builder.groups,
        lines,
        kind="scores",
        scale_max=max((e for e in ends if isinstance(e, int | float)), default=5),
    )


def _ordered(labels: Labels, flow_id: str, keys: Iterable[str]) -> list[str]:
    flow = labels.library.get(flow_id)
    order = {s.key: i for i, s in enumerate(flow.steps)} if flow else {}
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def _funnel(builder: _Builder, flow_id: str, acc: _Flow, labels: Labels) -> Table:
    t = builder.t
    started = builder.line("started", t.gettext("Started"), acc.started)
    lines: list[tuple[str, str, dict[str, set[int]]]] = [
        ("completed", t.gettext("Completed"), acc.completed)
    ]
    for key in _ordered(labels, flow_id, [k for k in acc.stops if k]):
        label = t.gettext("Stopped after: {question}").format(
            question=labels.question(flow_id, key, width=60)
        )
        lines.append((f"stop:{key}", label, acc.stops[key]))
    if "" in acc.stops:
        lines.append(("stop:", t.gettext("Stopped before the first answer"), acc.stops[""]))
    table = builder.table(
        _slug(flow_id, "funnel"),
        t.gettext("Participation funnel"),
        lines,
        started,
        builder.counts(acc.started),
        exclusive=True,
        kind="funnel",
    )
    table.lines.insert(0, started)
    table.base = None
    return table


def _themes(builder: _Builder, flow_id: str, acc: _Flow, labels: Labels) -> Table | None:
    flow = labels.library.get(flow_id)
    if flow is None:
        return None
    first = next(
        (s.key for s in flow.steps if s.kind == "multiple_choice" and s.key in acc.steps), None
    )
    if first is None:
        return None
    step = acc.steps[first]
    ranked = sorted(
        (
            (len(people.get(TOTAL, ())), code)
            for code, people in step.options.items()
            if code != SKIPPED and len(people.get(TOTAL, ())) >= MIN_GROUP
        ),
        key=lambda item: (-item[0], item[1]),
    )[:TOP_THEMES]
    if not ranked:
        return None
    lines = [(code, labels.option(flow_id, first, code), step.options[code]) for _, code in ranked]
    table = builder.table(
        _slug(flow_id, "themes"),
        builder.t.gettext("Top themes: {question}").format(
            question=labels.question(flow_id, first, width=60)
        ),
        lines,
        None,
        None,
        exclusive=False,
        kind="themes",
    )
    return table


def _months(builder: _Builder, flow_id: str, acc: _Flow) -> Table | None:
    months = sorted(acc.months)[-MONTHS:]
    if len(months) < 2:
        return None
    total = Group(TOTAL, builder.t.gettext("Total"))
    lines = [Line(m, m, [Cell.of(len(acc.months[m]))]) for m in months]
    return Table(
        _slug(flow_id, "months"),
        builder.t.gettext("People who answered, per month"),
        [total],
        lines,
        kind="months",
    )


def _texts(
    builder: _Builder, flow_id: str, acc: _Flow, labels: Labels, scope: Scope
) -> list[Texts]:
    found = []
    for key in _ordered(labels, flow_id, acc.steps):
        step = acc.steps[key]
        for group in builder.groups:
            if group.key not in scope.free_text or group.key not in step.texts:
                continue
            people = len(step.answered.get(group.key, ()))
            if people < MIN_GROUP or len(acc.people.get(group.key, ())) < MIN_GROUP:
                continue
            found.append(
                Texts(
                    key,
                    labels.question(flow_id, key),
                    group,
                    len(step.texts[group.key]),
                    _grouped(step.texts[group.key])[:MAX_TEXTS],
                )
            )
    return found


def _grouped(texts: list[tuple[datetime, str]]) -> list[str]:
    """Newest first; the same text written by several people once, with `(×n)`."""
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    newest: dict[str, datetime] = {}
    for moment, text in texts:
        key = " ".join(text.casefold().split())
        counts[key] = counts.get(key, 0) + 1
        shown.setdefault(key, text.strip())
        newest[key] = max(newest.get(key, moment), moment)
    order = sorted(counts, key=lambda k: (-counts[k], -newest[k].timestamp()))
    return [shown[k] + (f" (×{counts[k]})" if counts[k] > 1 else "") for k in order]


def _flow_result(
    builder: _Builder, flow_id: str, acc: _Flow, labels: Labels, scope: Scope
) -> FlowResult:
    t = builder.t
    participation = Table(
        _slug(flow_id, "participation"),
        t.gettext("People who answered"),
        builder.groups,
        [builder.line("people", t.gettext("People who answered"), acc.people)],
        kind="participation",
    )
    questions = [
        _question_table(builder, flow_id, key, acc.steps[key], labels)
        for key in _ordered(labels, flow_id, acc.steps)
        # The neighbourhood question is the groups themselves (see participation).
        if labels.kind(flow_id, key) != "neighbourhood"
    ]
    return FlowResult(
        flow_id,
        labels.flow_title(flow_id),
        participation,
        _funnel(builder, flow_id, acc, labels),
        questions,
        _themes(builder, flow_id, acc, labels),
        _scores(builder, flow_id, acc, labels),
        _months(builder, flow_id, acc),
        _texts(builder, flow_id, acc, labels, scope),
    )


# ---- extra sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a section needs besides the database connection."""

    scope: Scope
    groups: list[Group]
    labels: Labels
    metadata: MetaData


@dataclass(frozen=True)
class Section:
    name: str
    tables: tuple[str, ...]
    build: Callable[[Connection, Context], list[Table]]


SECTIONS: list[Section] = []


def section(name: str, *tables: str) -> Callable[[Callable[..., list[Table]]], Any]:
    """Register a report section that needs `tables`; it is skipped when one is missing."""

    def register(build: Callable[[Connection, Context], list[Table]]) -> Any:
        SECTIONS.append(Section(name, tables, build))
        return build

    return register


def _first(table: SqlTable, *names: str) -> Any:
    return next((table.c[n] for n in names if n in table.c), None)


RSVP_ANSWERS = ("going", "maybe", "not_going")
RSVP_SYNONYMS = {
    "yes": "going",
    "accepted": "going",
    "no": "not_going",
    "cant": "not_going",
    "cannot": "not_going",
    "declined": "not_going",
    "not-going": "not_going",
}


@section("invitations", "activities", "invitations", "rsvps")
def invitations_section(connection: Connection, ctx: Context) -> list[Table]:
    """Per activity: people invited, and their answers (going, maybe, can't).

    Read through reflection, so it works with the community tables as they are built:
    `activities(id, title, starts_at)`, `invitations(activity_id, participant_id)` and
    `rsvps(activity_id, participant_id, answer|status|response)`.
    """
    t = ctx.labels.t
    activities = SqlTable("activities", ctx.metadata, autoload_with=connection)
    invitations = SqlTable("invitations", ctx.metadata, autoload_with=connection)
    rsvps = SqlTable("rsvps", ctx.metadata, autoload_with=connection)
    title = _first(activities, "title", "name")
    starts = _first(activities, "starts_at", "starts", "start_at")
    answer = _first(rsvps, "answer", "status", "response", "reply")
    needed = [
        _first(invitations, "activity_id"),
        _first(invitations, "participant_id"),
        _first(rsvps, "activity_id"),
        _first(rsvps, "participant_id"),
        answer,
    ]
    if any(c is None for c in needed):
        log.info("invitations section skipped: the tables do not have the expected columns")
        return []

    def people(table: Any) -> Any:
        stmt = select(table.c.activity_id, table.c.participant_id, Participant.neighbourhood).join(
            Participant, Participant.id == table.c.participant_id
        )
        if ctx.scope.neighbourhoods is not None:
            stmt = stmt.where(Participant.neighbourhood.in_(ctx.scope.neighbourhoods))
        return stmt

    activity_ids = select(activities.c.id)
    if starts is not None:
        activity_ids = activity_ids.where(*_period_filter(starts, ctx.scope.period))
    invited: dict[Any, dict[str, set[int]]] = defaultdict(_sets)
    for activity_id, pid, neighbourhood in connection.execute(
        people(invitations).where(invitations.c.activity_id.in_(activity_ids))
    ):
        invited[activity_id][neighbourhood or ""].add(pid)
        invited[activity_id][TOTAL].add(pid)
    answers: dict[Any, dict[str, dict[str, set[int]]]] = defaultdict(lambda: defaultdict(_sets))
    stmt = people(rsvps).add_columns(answer).where(rsvps.c.activity_id.in_(activity_ids))
    for activity_id, pid, neighbourhood, value in connection.execute(stmt):
        code = RSVP_SYNONYMS.get(str(value).lower(), str(value).lower())
        answers[activity_id][code][neighbourhood or ""].add(pid)
        answers[activity_id][code][TOTAL].add(pid)
    if not invited:
        return []
    titles = (
        {row[0]: row[1] for row in connection.execute(select(activities.c.id, title))}
        if title is not None
        else {}
    )
    builder = _Builder(ctx.groups, ctx.labels)
    names = {
        "going": t.gettext("Going"),
        "maybe": t.gettext("Maybe"),
        "not_going": t.gettext("Cannot come"),
    }
    tables = []
    for activity_id in sorted(invited, key=str):
        base = builder.line("invited", t.gettext("Invited"), invited[activity_id])
        codes = list(RSVP_ANSWERS) + sorted(set(answers[activity_id]) - set(RSVP_ANSWERS))
        lines = [(c, names.get(c, c), answers[activity_id].get(c, {})) for c in codes]
        answered: dict[str, set[int]] = defaultdict(set)
        for people_of in answers[activity_id].values():
            for g, ids in people_of.items():
                answered[g] |= ids
        silent = {g: ids - answered.get(g, set()) for g, ids in invited[activity_id].items()}
        lines.append(("no_answer", t.gettext("No answer yet"), silent))
        table = builder.table(
            _slug("activity", str(activity_id)),
            t.gettext("Invitations: {activity}").format(
                activity=_title(titles.get(activity_id)) or activity_id
            ),
            lines,
            base,
            builder.counts(invited[activity_id]),
            exclusive=True,
            kind="invitations",
        )
        tables.append(table)
    return tables


def _title(value: Any) -> str:
    """An activity's title: a text, or `{"_": original, "tr": ...}` (the original)."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        original = value.get("_")
        if isinstance(original, str):
            return original
        return next((v for v in value.values() if isinstance(v, str)), "")
    return str(value) if value is not None else ""


def _sections(
    connection: Connection, ctx: Context, only: Iterable[str] | None = None
) -> tuple[list[Table], list[str]]:
    present = set(inspect(connection).get_table_names())
    tables: list[Table] = []
    skipped: list[str] = []
    for item in SECTIONS:
        if only is not None and item.name not in only:
            continue
        if not set(item.tables) <= present:
            skipped.append(item.name)
            continue
        tables.extend(item.build(connection, ctx))
    return tables, skipped


# ---- the whole report --------------------------------------------------------------------


def aggregate(
    connection: Connection,
    *,
    library: FlowLibrary,
    deployment: Deployment,
    translator: Translator,
    scope: Scope | None = None,
    timezone: str = "Europe/Amsterdam",
    compare: tuple[Period, Period] | None = None,
    sections: bool = True,
) -> Results:
    """Count everything in `scope`; compare two periods when `compare` is given."""
    scope = scope or Scope()
    zone = ZoneInfo(timezone)
    labels = Labels(library, deployment, translator)
    counted, seen = _count(connection, scope, labels, zone)
    groups = _groups(scope, seen, labels, deployment)
    builder = _Builder(groups, labels)
    order = {flow_id: i for i, flow_id in enumerate(library.flows)}
    flow_ids = sorted(counted, key=lambda f: (order.get(f, len(order)), f))
    results = Results(
        scope,
        groups,
        [_flow_result(builder, f, counted[f], labels, scope) for f in flow_ids],
        generated_at=datetime.now(zone),
    )
    if sections:
        ctx = Context(scope, groups, labels, MetaData())
        results.sections, results.skipped_sections = _sections(connection, ctx)
    if compare is not None:
        results.periods = compare
        results.comparison = _compare(connection, scope, labels, zone, groups, flow_ids, compare)
    return results


def _compare(
    connection: Connection,
    scope: Scope,
    labels: Labels,
    zone: ZoneInfo,
    groups: list[Group],
    flow_ids: list[str],
    periods: tuple[Period, Period],
) -> list[Table]:
    """Per flow: people who answered and who completed, per neighbourhood, in two periods."""
    t = labels.t
    builder = _Builder(groups, labels)
    counted = []
    for period in periods:
        narrowed = Scope(scope.neighbourhoods, scope.flow, period, frozenset())
        counted.append(_count(connection, narrowed, labels, zone)[0])
    columns = [Group("a", periods[0].label), Group("b", periods[1].label)]
    tables = []
    for flow_id in flow_ids:
        for name, title, pick in (
            ("people", t.gettext("People who answered"), lambda acc: acc.people),
            ("completed", t.gettext("Completed"), lambda acc: acc.completed),
        ):
            per_period = [
                builder.line(name, title, pick(c[flow_id]) if flow_id in c else {}) for c in counted
            ]
            lines = [
                Line(g.key, g.label, [per_period[0].cells[j], per_period[1].cells[j]])
                for j, g in enumerate(groups)
            ]
            tables.append(
                Table(
                    _slug(flow_id, "compare", name),
                    f"{labels.flow_title(flow_id)}: {title}",
                    columns,
                    lines,
                    kind="comparison",
                )
            )
    return tables


def change(before: Cell, after: Cell) -> str:
    """`+25%`, `-10%`, or empty when either number is not shown or the first is 0."""
    if not (before.shown and after.shown) or not before.value:
        return ""
    assert after.value is not None
    percent = round(100 * (after.value - before.value) / before.value)
    return f"{percent:+d}%"
