"""The tables of one flow, built from its counts and protected for every neighbourhood.

Every table is first made for *all* neighbourhoods and the town's total and protected
there (`bot.reports.protection`); a report or `/results` for some neighbourhoods shows
those columns of it (`Builder.view`), so a number is hidden the same way wherever it appears,
and the total of a few neighbourhoods is shown only when all of them are (it then tells
nothing new).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from bot.flows.labels import SKIPPED, Labels
from bot.reports.counting import (
    ANONYMISED,
    ANSWERING,
    COMPLETED,
    STOPPED,
    FlowCount,
    Key,
    Written,
)
from bot.reports.model import TOTAL, FreeText, Group, Line, Scope, Table, Texts
from bot.reports.protection import HIDDEN, MIN_GROUP, SMALL, Cell, Sum, suppress, table_sums

OPTION_KINDS = frozenset(
    {"choice", "multiple_choice", "yes_no", "scale", "neighbourhood", "language", "set"}
)
EXCLUSIVE_KINDS = OPTION_KINDS - {"multiple_choice"}
TOP_THEMES = 5
MAX_TEXTS = 200
MONTHS = 12
WEEKS = 12

People = Mapping[Key, int]
"""People per neighbourhood."""


def slug(*parts: str) -> str:
    return "-".join(p.replace("_", "-").replace("/", "-") for p in parts if p)


def ordered(labels: Labels, flow_id: str, keys: Iterable[str]) -> list[str]:
    """Step keys in the flow's order (unknown ones last, by name)."""
    flow = labels.library.get(flow_id)
    order: dict[str, int] = {}
    for i, s in enumerate(flow.steps if flow else []):
        order.setdefault(s.answer_as, i)  # steps sharing an answer key: the first
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


class Builder:
    """Makes tables protected over the town's groups (all neighbourhoods, then Total),
    and shows the columns of `shown` (some neighbourhoods, and their total) of them."""

    def __init__(self, groups: list[Group], labels: Labels, shown: list[Group] | None = None):
        self.groups = groups
        self.keys = [g.key for g in groups]
        self.total_col = self.keys.index(TOTAL) if TOTAL in self.keys else None
        self.labels = labels
        self.t = labels.t
        self.shown = shown if shown is not None else groups

    def counts(self, people: People) -> list[int]:
        """People per group; the total column counts everyone (each person is in one
        group)."""
        return [sum(people.values()) if key == TOTAL else people.get(key, 0) for key in self.keys]

    def includes(self, group: Key, column: str) -> bool:
        """Whether people of `group` are counted in a shown column."""
        if column != TOTAL:
            return group == column
        chosen = [g.key for g in self.shown if g.key != TOTAL]
        every = len(chosen) == len(self.keys) - (1 if self.total_col is not None else 0)
        return every or group in chosen

    def small_groups(self, sizes: Sequence[int]) -> frozenset[int]:
        """The columns of groups of 1 to 4 people: nothing of them is shown."""
        return frozenset(j for j, n in enumerate(sizes) if 0 < n < MIN_GROUP)

    def table(
        self,
        name: str,
        title: str,
        base: tuple[str, str, People],
        lines: list[tuple[str, str, People]],
        *,
        sizes: Sequence[int],
        exclusive: bool,
        kind: str,
        extra: Sequence[tuple[int, Sequence[int]]] = (),
    ) -> Table:
        """A table with its base line (the people it is about) first; `extra` sums:
        (line, the lines that add up to it), counted in the lines after the base."""
        every = [base, *lines]
        grid = [self.counts(people) for _, _, people in every]
        sums = table_sums(
            len(grid), len(self.keys), total_col=self.total_col, base_row=0, exclusive=exclusive
        )
        cols = range(len(self.keys))
        for whole, parts in extra:
            for j in cols:
                sums.append(Sum((whole + 1, j), tuple((p + 1, j) for p in parts)))
        if exclusive and extra:
            # The lines that make up another are not also in the base's sum.
            inner = {p + 1 for _, parts in extra for p in parts}
            sums = [
                s
                if s.whole[0] != 0
                else Sum(s.whole, tuple(q for q in s.parts if q[0] not in inner))
                for s in sums
            ]
        # When the base is the groups' sizes, a reader knows a small group's is 1 to 4.
        base_row = 0 if list(sizes) == grid[0] else None
        cells = suppress(grid, sums, small_groups=self.small_groups(sizes), base_row=base_row)
        cells = self.view(grid, cells)
        made = [Line(k, label, row) for (k, label, _), row in zip(every, cells, strict=True)]
        return Table(name, title, self.shown, made[1:], base=made[0], kind=kind)

    def view(self, grid: list[list[int]], cells: list[list[Cell]]) -> list[list[Cell]]:
        """The columns of the groups shown. Their total (of a few neighbourhoods) is the
        sum of theirs, shown only when each of them is, so it tells nothing new; hidden,
        it says "fewer than 5" when it is (0 included: a small group in it may be 0)."""
        keys = [g.key for g in self.shown]
        if keys == self.keys:
            return cells
        index = [self.keys.index(key) for key in keys if key != TOTAL]
        out = []
        for values, row in zip(grid, cells, strict=True):
            part = [row[j] for j in index]
            if TOTAL in keys:
                value = sum(values[j] for j in index)
                if all(c.shown for c in part):
                    part.append(Cell(value))
                else:
                    part.append(Cell(None, SMALL if value < MIN_GROUP else HIDDEN))
            out.append(part)
        return out


def funnel(builder: Builder, flow_id: str, acc: FlowCount, labels: Labels) -> Table:
    """People who answered the flow (its base, per neighbourhood), and how their latest
    run of it ended: completed, still answering, stopped (after which question)."""
    t = builder.t
    people = acc.people
    outcome: dict[str, Counter[Key]] = {}
    stops: dict[str, Counter[Key]] = {}
    for (what, last, key), n in acc.outcomes.items():
        outcome.setdefault(what, Counter())[key] += n
        if what == STOPPED:
            stops.setdefault(last, Counter())[key] += n
    lines: list[tuple[str, str, People]] = [
        (COMPLETED, t.gettext("Completed"), outcome.get(COMPLETED, {})),
        (ANSWERING, t.gettext("Still answering"), outcome.get(ANSWERING, {})),
        (STOPPED, t.gettext("Stopped"), outcome.get(STOPPED, {})),
    ]
    if ANONYMISED in outcome:
        lines.append(
            (ANONYMISED, t.gettext("Answers older than the retention period"), outcome[ANONYMISED])
        )
    first_stop = len(lines)
    for key in ordered(labels, flow_id, [k for k in stops if k]):
        label = t.gettext("Stopped after: {question}").format(
            question=labels.question(flow_id, key, width=60)
        )
        lines.append((f"stop:{key}", label, stops[key]))
    if "" in stops:
        lines.append(("stop:", t.gettext("Stopped before the first answer"), stops[""]))
    extra = [(2, range(first_stop, len(lines)))] if len(lines) > first_stop else []
    base = ("people", t.gettext("People who answered"), people)
    table = builder.table(
        slug(flow_id, "funnel"),
        t.gettext("Who finished"),
        base,
        lines,
        sizes=builder.counts(people),
        exclusive=True,
        kind="funnel",
        extra=extra,
    )
    table.flow = flow_id
    return table


def question(
    builder: Builder, flow_id: str, step_key: str, acc: FlowCount, labels: Labels
) -> Table:
    """One question: its options (a line each, "rather not say" last) by neighbourhood."""
    t = builder.t
    kind = labels.kind(flow_id, step_key) or ""
    step = acc.steps[step_key]
    answered, chose = step.answered, step.chose
    lines: list[tuple[str, str, People]] = []
    if kind in OPTION_KINDS:
        known = labels.options(flow_id, step_key) if kind != "language" else {}
        codes = [c for c in known if c != SKIPPED]
        codes += sorted(c for c in chose if c not in known and c != SKIPPED)
        step_def = labels.step(flow_id, step_key)
        if SKIPPED in chose or (step_def is not None and step_def.skippable):
            codes.append(SKIPPED)
        for code in codes:
            lines.append((code, labels.option(flow_id, step_key, code), chose.get(code, Counter())))
    elif SKIPPED in chose:
        lines.append((SKIPPED, labels.option(flow_id, step_key, SKIPPED), chose[SKIPPED]))
    table = builder.table(
        slug(flow_id, step_key),
        labels.question(flow_id, step_key),
        ("answered", t.gettext("People who answered"), answered),
        lines,
        sizes=builder.counts(acc.people),
        exclusive=kind in EXCLUSIVE_KINDS,
        kind=kind or "text",
    )
    table.flow, table.step = flow_id, step_key
    if kind == "multiple_choice":
        table.note = t.gettext("People could choose more than one answer.")
    return table


def participation(funnel_table: Table) -> Table:
    """People who answered, per neighbourhood: the funnel's base, the same cells."""
    assert funnel_table.base is not None
    return Table(
        slug(funnel_table.flow, "participation"),
        funnel_table.base.label,
        funnel_table.groups,
        [funnel_table.base],
        kind="participation",
        flow=funnel_table.flow,
    )


def themes(builder: Builder, flow_id: str, questions: list[Table], labels: Labels) -> Table | None:
    """The most chosen options of the flow's first multiple-choice question (its cells)."""
    first = next((q for q in questions if q.kind == "multiple_choice"), None)
    if first is None:
        return None
    j = len(first.groups) - 1
    ranked = sorted(
        (line for line in first.lines if line.key != SKIPPED and line.cells[j].shown),
        key=lambda line: (-(line.cells[j].value or 0), line.key),
    )
    ranked = [line for line in ranked if (line.cells[j].value or 0) >= MIN_GROUP][:TOP_THEMES]
    if not ranked:
        return None
    return Table(
        slug(flow_id, "themes"),
        builder.t.gettext("Top themes: {question}").format(
            question=labels.question(flow_id, first.step, width=60)
        ),
        first.groups,
        ranked,
        base=first.base,
        kind="themes",
        flow=flow_id,
        step=first.step,
    )


def scores(
    builder: Builder, flow_id: str, acc: FlowCount, questions: list[Table], labels: Labels
) -> Table | None:
    """The average of each scale question, where at least 5 people gave a score."""
    scales = [q for q in questions if q.kind == "scale" and q.base is not None]
    if not scales:
        return None
    lines = []
    for table in scales:
        assert table.base is not None
        step = acc.steps[table.step]
        keys = [g.key for g in table.groups]
        means: list[float | None] = []
        for key, cell in zip(keys, table.base.cells, strict=True):
            given = [
                (value, n)
                for person_key, values in step.scale.items()
                if builder.includes(person_key, key)
                for value, n in values.items()
            ]
            people = sum(n for _, n in given)
            ok = cell.shown and people >= MIN_GROUP
            means.append(round(sum(v * n for v, n in given) / people, 1) if ok else None)
        lines.append(
            Line(table.step, labels.question(flow_id, table.step), table.base.cells, means)
        )
    ends = [getattr(labels.step(flow_id, q.step), "max", None) for q in scales]
    return Table(
        slug(flow_id, "scores"),
        builder.t.gettext("Feedback scores (average)"),
        scales[0].groups,
        lines,
        kind="scores",
        scale_max=max((e for e in ends if isinstance(e, int | float)), default=5),
        flow=flow_id,
    )


def trend(
    builder: Builder,
    flow_id: str,
    per: Mapping[str, People],
    acc: FlowCount,
    groups: list[Group],
    *,
    kind: str,
    keep: int,
) -> Table | None:
    """People who answered, per month or week, in the groups shown (total only)."""
    periods = sorted(per)[-keep:]
    if len(periods) < 2:
        return None
    lines = []
    for period in periods:
        people = sum(n for key, n in per[period].items() if builder.includes(key, TOTAL))
        lines.append(Line(period, period, [Cell.of(people)]))
    title = (
        builder.t.gettext("People who answered, per month")
        if kind == "months"
        else builder.t.gettext("People who answered, per week")
    )
    return Table(
        slug(flow_id, kind),
        title,
        [Group(TOTAL, builder.t.gettext("Total"))],
        lines,
        kind=kind,
        flow=flow_id,
    )


def texts(
    builder: Builder,
    flow_id: str,
    acc: FlowCount,
    labels: Labels,
    scope: Scope,
    groups: list[Group],
) -> list[Texts]:
    """Free-text answers of the neighbourhoods whose workers ask, for groups of 5 or more."""
    found = []
    for key in ordered(labels, flow_id, acc.steps):
        step = acc.steps[key]
        for group in groups:
            if group.key not in scope.free_text or group.key not in step.texts:
                continue
            answered = sum(n for k, n in step.answered.items() if builder.includes(k, group.key))
            people = sum(n for k, n in acc.people.items() if builder.includes(k, group.key))
            if answered < MIN_GROUP or people < MIN_GROUP:
                continue
            written = step.texts[group.key]
            found.append(
                Texts(
                    key,
                    labels.question(flow_id, key),
                    group,
                    sum(w.count for w in written),
                    grouped(written)[:MAX_TEXTS],
                )
            )
    return found


def grouped(written: list[Written]) -> list[FreeText]:
    """Most often written first, then newest; the same text written by several people
    once, with `(×n)` (and the language of the first who wrote it)."""
    merged: dict[str, Written] = {}
    for w in written:
        key = " ".join(w.text.casefold().split())
        seen = merged.get(key)
        if seen is None:
            merged[key] = Written(w.text.strip(), w.language, w.count, w.newest, w.first)
            continue
        if w.first < seen.first:
            seen.text, seen.language, seen.first = w.text.strip(), w.language, w.first
        seen.count += w.count
        seen.newest = max(seen.newest, w.newest)
    order = sorted(merged.values(), key=lambda w: (-w.count, -w.newest.timestamp(), w.first))
    return [FreeText(w.text + (f" (×{w.count})" if w.count > 1 else ""), w.language) for w in order]
