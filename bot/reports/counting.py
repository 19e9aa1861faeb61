"""Who said what, per flow: counted by the database, a few grouped queries a report.

Counts are of *people*, and each person is counted once in a flow, in one group: the
neighbourhood of their latest answer in it (a person who moved is not in two
neighbourhoods at once), with their latest answer to each question (a person who ran a
flow twice has one answer). So a line's neighbourhoods always add up to its total and a
single-choice question's answers to the people who answered it, as a reader expects
(and as the protection in `bot.reports.protection` assumes). Anonymised answers (see
`bot.privacy.retention`) count as one person each.

A report for one age group (`Scope.age_group`) counts the people of that age group
only (`participants.age_group`, as the person gave it; "" asks for the people whose
age group is not known, anonymised answers included). Its tables are then protected on
their own, like a report of one period.

The database does the grouping: "each person's latest" is a filter on when the person
next answered, kept on each answer (`bot.storage.answer_order`): the latest answer
before a period's end is the one answered before it and not followed before it. What
comes back is a row a (question, neighbourhood, answer) with its number of people,
not a row an answer. Only the months and weeks come back a row a person an hour (an
hour in UTC is one local month and week in any time zone whose offset is whole hours;
elsewhere a minute). Only the flows residents answer are counted (a flow's
`audience`), unless one flow is asked for by name; the system's own flows (language,
forget, resume) never are.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from bot.flows.labels import SKIPPED, Labels, free_text_of, option_keys
from bot.flows.library import FlowLibrary
from bot.privacy.redact import redact
from bot.reports.model import Scope
from bot.reports.periods import Period
from bot.storage.models import Answer, Conversation, Participant

NOT_IN_REPORTS = frozenset({"language", "forget", "resume", "move", "neighbourhood-link"})
"""The system's own flows: what they hold is no one's opinion."""

COMPLETED, ANSWERING, STOPPED, ANONYMISED = "completed", "answering", "stopped", "anonymised"

Key = str
"""The neighbourhood a count of people belongs to ("" for none)."""


def left_out(library: FlowLibrary) -> list[str]:
    """The flows a residents' report leaves out: the system's and the workers' flows."""
    workers = [f.id for f in library.flows.values() if not f.for_residents]
    return sorted(NOT_IN_REPORTS | set(workers))


@dataclass
class Written:
    """One text as written (after redaction), by how many, when last, in which language."""

    text: str
    language: str | None
    count: int
    newest: datetime
    first: int  # the lowest answer id: the first who wrote it


@dataclass
class StepCount:
    """People's latest answers to one question: who answered, who chose each option, the
    scale values given (value -> people), and what was written (per neighbourhood)."""

    answered: Counter[Key] = field(default_factory=Counter)
    chose: defaultdict[str, Counter[Key]] = field(default_factory=lambda: defaultdict(Counter))
    scale: defaultdict[Key, Counter[float]] = field(default_factory=lambda: defaultdict(Counter))
    texts: defaultdict[str, list[Written]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class FlowCount:
    """Who answered a flow, where, what, when; and how their latest run of it ended."""

    people: Counter[Key] = field(default_factory=Counter)
    steps: defaultdict[str, StepCount] = field(default_factory=lambda: defaultdict(StepCount))
    months: defaultdict[str, Counter[Key]] = field(default_factory=lambda: defaultdict(Counter))
    weeks: defaultdict[str, Counter[Key]] = field(default_factory=lambda: defaultdict(Counter))
    outcomes: Counter[tuple[str, str, Key]] = field(default_factory=Counter)
    """(completed | answering | stopped | anonymised, the last step answered, key)."""


def _period_filter(column: Any, period: Period) -> list[ColumnElement[bool]]:
    where = []
    if period.since is not None:
        where.append(column >= period.since)
    if period.until is not None:
        where.append(column < period.until)
    return where


def _flows_filter(column: Any, scope: Scope, library: FlowLibrary) -> ColumnElement[bool]:
    if scope.flow:
        return column == scope.flow
    return column.not_in(left_out(library))


def _whole_hours(zone: ZoneInfo) -> bool:
    """Whether the zone's offsets (winter and summer) are whole hours."""
    year = datetime.now(UTC).year
    offsets = [datetime(year, m, 1, tzinfo=UTC).astimezone(zone).utcoffset() for m in (1, 7)]
    return all(o is not None and o % timedelta(hours=1) == timedelta(0) for o in offsets)


class Statements:
    """The statements of one count (the answers in scope, and each person's group) and
    how their rows add up to a count (`fold`).

    `count` runs them on one connection; the dashboard runs `parts` side by side on
    several (`bot.dashboard.counted`), which gives the same rows when nothing was
    written meanwhile."""

    def __init__(self, dialect: str, scope: Scope, labels: Labels, zone: ZoneInfo):
        self.sqlite = dialect == "sqlite"
        self.labels = labels
        self.scope, self.library, self.period = scope, labels.library, scope.period
        self.until = scope.period.until
        self.zone = zone
        self.hours = _whole_hours(zone)
        person = func.coalesce(Answer.participant_id, -Answer.id)
        self.scoped = (
            select(
                Answer.id,
                Answer.flow_id,
                person.label("person"),
                Answer.step_key,
                cast(Answer.value, String).label("raw"),
                Answer.skipped,
                func.coalesce(Answer.neighbourhood, "").label("grp"),
                Answer.created_at,
                Answer.language,
            )
            .select_from(Answer)
            .where(*_period_filter(Answer.created_at, scope.period))
            .where(_flows_filter(Answer.flow_id, scope, self.library))
        )
        if scope.age_group is not None:
            age = func.coalesce(Participant.age_group, "")
            self.scoped = self.scoped.outerjoin(
                Participant, Participant.id == Answer.participant_id
            ).where(age == scope.age_group)
        self.scoped = self.scoped.cte("scoped")

    def _latest(self, column: Any) -> ColumnElement[bool]:
        """Whether an answer is its person's latest (in its question or its flow, by the
        column: when they next answered, see `bot.storage.answer_order`) in the period."""
        if self.until is None:
            return column.is_(None)
        return or_(column.is_(None), column >= self.until)

    def _in_scope(self, answer: Any) -> list[ColumnElement[bool]]:
        return [
            *_period_filter(answer.created_at, self.period),
            _flows_filter(answer.flow_id, self.scope, self.library),
        ]

    def _of_age(self, statement: Any, answer: Any) -> Any:
        if self.scope.age_group is None:
            return statement
        # The people of the age group as a set to look answers up in (a semi-join), not
        # a join a row: an anonymised answer's age group is not known ("").
        of_age = select(Participant.id).where(
            func.coalesce(Participant.age_group, "") == self.scope.age_group
        )
        found = answer.participant_id.in_(of_age)
        if self.scope.age_group == "":
            found = or_(answer.participant_id.is_(None), found)
        return statement.where(found)

    def _grouped(self, answer: Any) -> tuple[Any, ColumnElement[bool], ColumnElement[Any]]:
        """The answers `answer` (an alias) joined with their person's latest answer in
        the flow in the period (`last`), and the person's group: that answer's
        neighbourhood. An anonymised answer is its own person, in its own group."""
        last = aliased(Answer, name="last_in_flow")
        joined = and_(
            last.flow_id == answer.flow_id,
            last.participant_id == answer.participant_id,
            self._latest(last.next_in_flow_at),
            *([last.created_at < self.until] if self.until is not None else []),
        )
        grp = case(
            (answer.participant_id.is_(None), func.coalesce(answer.neighbourhood, "")),
            else_=func.coalesce(last.neighbourhood, ""),
        )
        return last, joined, grp

    def steps(self) -> Any:
        """(flow, step, group, answer, skipped, people): each person's latest answer."""
        a = aliased(Answer, name="answer")
        last, joined, grp = self._grouped(a)
        raw = cast(a.value, String)
        statement = (
            select(
                a.flow_id,
                a.step_key,
                grp.label("grp"),
                raw.label("raw"),
                a.skipped,
                func.count().label("n"),
            )
            .select_from(a)
            .outerjoin(last, joined)
            .where(*self._in_scope(a), self._latest(a.next_in_step_at))
            .group_by(a.flow_id, a.step_key, grp, raw, a.skipped)
        )
        return self._of_age(statement, a)

    def outcomes(self) -> Any:
        """(flow, group, status, last step, people): how each person's latest run of
        the flow (begun before the period's end) ended, by the status of that
        conversation and the step of its last answer (status None: no run,
        anonymised). A row a person: their latest answer in the flow in the period."""
        a = aliased(Answer, name="person")
        run = aliased(Conversation, name="run")
        latest_run = select(run.id).where(
            run.flow_id == a.flow_id, run.participant_id == a.participant_id
        )
        if self.until is not None:
            latest_run = latest_run.where(run.started_at < self.until)
        latest_run = latest_run.order_by(run.started_at.desc(), run.id.desc()).limit(1).correlate(a)
        # The last answer of the run, found by the (conversation, step) index. `id + 0`:
        # for a plain max(id) PostgreSQL walks the primary key backwards from the newest
        # answer until one of the run turns up (seconds at 10,000 people).
        step = aliased(Answer, name="step")
        last_id = (
            select(func.max(step.id + 0))
            .where(step.conversation_id == Conversation.id)
            .correlate(Conversation)
            .scalar_subquery()
        )
        final = aliased(Answer, name="final")
        last_step = (
            select(final.step_key)
            .where(final.id == last_id)
            .correlate(Conversation)
            .scalar_subquery()
        )
        grp = func.coalesce(a.neighbourhood, "")
        statement = (
            select(
                a.flow_id,
                grp.label("grp"),
                Conversation.status,
                last_step.label("last"),
                func.count().label("n"),
            )
            .select_from(a)
            .outerjoin(Conversation, Conversation.id == latest_run.scalar_subquery())
            .where(*self._in_scope(a), self._latest(a.next_in_flow_at))
            .group_by(a.flow_id, grp, Conversation.status, last_step)
        )
        return self._of_age(statement, a)

    def moments(self) -> Any:
        """(flow, person, group, hour): when each person answered, to the hour."""
        a = aliased(Answer, name="answer")
        last, joined, grp = self._grouped(a)
        if self.sqlite:
            hour = "%Y-%m-%d %H:00" if self.hours else "%Y-%m-%d %H:%M"
            bucket = func.strftime(hour, a.created_at)
        else:
            bucket = func.to_char(
                func.timezone("UTC", a.created_at),
                "YYYY-MM-DD HH24:00" if self.hours else "YYYY-MM-DD HH24:MI",
            )
        person = func.coalesce(a.participant_id, -a.id)
        statement = (
            select(a.flow_id, person.label("person"), grp.label("grp"), bucket.label("hour"))
            .select_from(a)
            .outerjoin(last, joined)
            .where(*self._in_scope(a))
            .distinct()
        )
        return self._of_age(statement, a)

    def parts(self, only_outcomes: bool = False) -> list[Any]:
        """The steps, outcomes and moments, each a statement of rows (kind, flow, step,
        group, answer, skipped, people, person, hour, status, last), each kind filling
        its own columns. `only_outcomes`: the outcomes alone (who answered and how their
        run ended: a funnel, as two periods compared need)."""
        text, number, flag = literal(None, String), literal(None, Integer), literal(None, Boolean)
        outcomes = self.outcomes().subquery("outcomes_part").c
        outcome_rows = select(
            literal("o"),
            outcomes.flow_id,
            text,
            outcomes.grp,
            text,
            flag,
            outcomes.n,
            number,
            text,
            outcomes.status,
            outcomes.last,
        )
        if only_outcomes:
            return [outcome_rows]
        steps = self.steps().subquery("steps_part").c
        moments = self.moments().subquery("moments_part").c
        return [
            select(
                literal("s"),
                steps.flow_id,
                steps.step_key,
                steps.grp,
                steps.raw,
                steps.skipped,
                steps.n,
                number,
                text,
                text,
                text,
            ),
            outcome_rows,
            select(
                literal("m"),
                moments.flow_id,
                text,
                moments.grp,
                text,
                flag,
                number,
                moments.person,
                moments.hour,
                text,
                text,
            ),
        ]

    def everything(self, only_outcomes: bool = False) -> Any:
        """The `parts` in one statement: one round trip, and on PostgreSQL one snapshot
        (the protection relies on the steps and the people adding up)."""
        parts = self.parts(only_outcomes)
        return parts[0] if len(parts) == 1 else union_all(*parts)

    def texts(self, only_outcomes: bool = False) -> Any | None:
        """(flow, step, group, text, language, answers, newest, first id): every
        free-text answer (not only each person's latest) of the neighbourhoods whose
        workers ask, written alike grouped; None when none are asked for. Questions with
        options are left out here (an unknown question counts as free text, as in
        `Labels.is_free_text`)."""
        scope, labels = self.scope, self.labels
        if not scope.free_text or only_outcomes:
            return None
        s = self.scoped.c
        flows = labels.library.flows
        if scope.flow is not None:  # the other flows' rules would only be read in vain
            flows = {k: v for k, v in flows.items() if k == scope.flow}
        free = [
            and_(
                s.flow_id == flow_id,
                s.step_key.not_in(
                    [x.key for x in flow.steps if not labels.is_free_text(flow_id, x.key)]
                ),
            )
            for flow_id, flow in flows.items()
        ]
        return (
            select(
                s.flow_id,
                s.step_key,
                s.grp,
                s.raw,
                s.language,
                func.count(),
                func.max(s.created_at),
                func.min(s.id),
            )
            .where(s.skipped == false(), s.grp.in_(sorted(scope.free_text)), s.raw.is_not(None))
            .where(or_(s.flow_id.not_in(list(labels.library.flows)), *free))
            .group_by(s.flow_id, s.step_key, s.grp, s.raw, s.language)
        )

    def period_keys(self, hour: str) -> tuple[str, str]:
        """The local month and ISO week of an hour (or minute) in UTC."""
        moment = datetime.fromisoformat(hour).replace(tzinfo=UTC).astimezone(self.zone)
        year, week, _ = moment.isocalendar()
        return f"{moment.year:04d}-{moment.month:02d}", f"{year}-W{week:02d}"

    def fold(
        self, rows: Iterable[Sequence[Any]], written: Iterable[Sequence[Any]]
    ) -> dict[str, FlowCount]:
        """A count from the rows of the `parts` (in any order, any number of
        statements) and of `texts`."""
        labels = self.labels
        flows: dict[str, FlowCount] = defaultdict(FlowCount)
        free: dict[tuple[str, str], bool] = {}

        def is_free(flow_id: str, step_key: str) -> bool:
            key = (flow_id, step_key)
            if key not in free:
                free[key] = labels.is_free_text(flow_id, step_key)
            return free[key]

        decoded: dict[tuple[str | None, str], tuple[list[str], float | None]] = {}
        seen: dict[str, tuple[str, str]] = {}
        months: dict[str, defaultdict[str, dict[int, Key]]] = defaultdict(lambda: defaultdict(dict))
        weeks: dict[str, defaultdict[str, dict[int, Key]]] = defaultdict(lambda: defaultdict(dict))
        for kind, flow_id, step_key, key, raw, skipped, n, person, hour, status, last in rows:
            acc = flows[flow_id]
            if kind == "o":
                acc.people[key] += n
                if status is None:
                    what = ANONYMISED
                elif status == "finished":
                    what = COMPLETED
                else:
                    what = ANSWERING if status == "active" else STOPPED
                stop = (last or "") if what in (ANSWERING, STOPPED) else ""
                acc.outcomes[(what, stop, key)] += n
            elif kind == "m":
                found_keys = seen.get(hour)
                if found_keys is None:
                    found_keys = seen[hour] = self.period_keys(hour)
                month, week = found_keys
                months[flow_id][month][person] = key
                weeks[flow_id][week][person] = key
            else:
                step = acc.steps[step_key]
                step.answered[key] += n
                if skipped:
                    codes, scale = [SKIPPED], None
                elif is_free(flow_id, step_key):
                    codes, scale = [], None
                else:
                    kind_of = labels.kind(flow_id, step_key) or ""
                    found = decoded.get((raw, kind_of))
                    if found is None:
                        value = _value(raw)
                        number = kind_of == "scale" and isinstance(value, int | float)
                        found = (option_keys(value), float(value) if number else None)
                        decoded[(raw, kind_of)] = found
                    codes, scale = found
                for code in codes:
                    step.chose[code][key] += n
                if scale is not None:
                    step.scale[key][scale] += n
        for target, per in (("months", months), ("weeks", weeks)):
            for flow_id, periods in per.items():
                into = getattr(flows[flow_id], target)
                for period, people in periods.items():
                    into[period] = Counter(people.values())
        self._texts(written, flows, is_free)
        return dict(flows)

    def _texts(
        self,
        written: Iterable[Sequence[Any]],
        flows: dict[str, FlowCount],
        is_free: Callable[[str, str], bool],
    ) -> None:
        """What was written, per question and neighbourhood, redacted as in the exports."""
        redacted: dict[str, str | None] = {}
        for row in written:
            flow_id, step_key, grp, raw, language, n, newest, first = row
            if flow_id not in flows or not is_free(flow_id, step_key):
                continue
            if raw not in redacted:
                text = free_text_of(_value(raw))
                redacted[raw] = redact(text) if text else None
            text = redacted[raw]
            if text is None:
                continue
            if newest.tzinfo is None:  # SQLite gives the aggregate back as written
                newest = newest.replace(tzinfo=UTC)
            step = flows[flow_id].steps[step_key]
            step.texts[grp].append(Written(text, language, n, newest, first))


def mark(connection: Connection, scope: Scope) -> tuple[Any, ...]:
    """A few numbers that change whenever a count of `scope` (one flow) would.

    The flow's answers (how many, the newest, how many still have their person: an
    anonymised answer is counted as a person of its own), its runs (how many, the last
    change: a run that ends changes how it ended), and for one age group how many
    people are in each. Every writer changes one of them: answers are stored, erased
    or anonymised, runs finish, stop or expire, people give their age group. So a count
    kept with its mark is the count of now while the mark is the same
    (`bot.dashboard.counted`); it takes a few milliseconds where counting takes
    hundreds.
    """
    assert scope.flow is not None, "a mark is of one flow"
    answers = connection.execute(
        select(func.count(), func.max(Answer.id), func.count(Answer.participant_id)).where(
            Answer.flow_id == scope.flow
        )
    ).one()
    runs = connection.execute(
        select(func.count(), func.max(Conversation.updated_at)).where(
            Conversation.flow_id == scope.flow
        )
    ).one()
    ages: tuple[Any, ...] = ()
    if scope.age_group is not None:
        ages = tuple(
            connection.execute(
                select(Participant.age_group, func.count())
                .group_by(Participant.age_group)
                .order_by(Participant.age_group)
            ).all()
        )
    return (*answers, *runs, *ages)


def _value(raw: str | None) -> Any:
    return json.loads(raw) if raw is not None else None


def prepare(connection: Connection) -> None:
    """Set up a connection's transaction for counting."""
    if connection.dialect.name == "postgresql":
        # The correlated subqueries make the planner's estimate look large enough for
        # its JIT compiler, which then took 0.3 s to compile a 0.1 s query. For this
        # transaction only.
        connection.execute(text("SET LOCAL jit = off"))


def count(
    connection: Connection,
    scope: Scope,
    labels: Labels,
    zone: ZoneInfo,
    *,
    only_outcomes: bool = False,
) -> dict[str, FlowCount]:
    """Everything in `scope`'s period and flows, for every neighbourhood (the view of
    some neighbourhoods is taken later, from tables protected for all of them).
    `only_outcomes`: the people and how their runs ended, nothing else (a funnel)."""
    statements = Statements(connection.dialect.name, scope, labels, zone)
    prepare(connection)
    rows = connection.execute(statements.everything(only_outcomes))
    written = statements.texts(only_outcomes)
    return statements.fold(rows, connection.execute(written) if written is not None else ())
