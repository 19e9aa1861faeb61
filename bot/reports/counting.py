"""One pass over the answers and one over the conversations: who said what, per flow.

Counts are of *people*, and each person is counted once in a flow, in one group: the
neighbourhood of their latest answer in it (a person who moved is not in two
neighbourhoods at once), with their latest answer to each question (a person who ran a
flow twice has one answer). So a line's neighbourhoods always add up to its total and a
single-choice question's answers to the people who answered it, as a reader expects
(and as the protection in `bot.reports.protection` assumes). Anonymised answers (see
`bot.privacy.retention`) count as one person each.

Only the flows residents answer are counted (a flow's `audience`), unless one flow is
asked for by name; the system's own flows (language, forget, resume) never are. Rows
are read in batches (`yield_per`), so the size of the database does not matter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from bot.flows.labels import SKIPPED, Labels, free_text_of, option_keys
from bot.flows.library import FlowLibrary
from bot.privacy.redact import redact
from bot.reports.model import Scope
from bot.reports.periods import Period
from bot.storage.models import Answer, Conversation

NOT_IN_REPORTS = frozenset({"language", "forget", "resume"})
"""The system's own flows: what they hold is no one's opinion."""
BATCH = 2000

COMPLETED, ANSWERING, STOPPED, ANONYMISED = "completed", "answering", "stopped", "anonymised"


def left_out(library: FlowLibrary) -> list[str]:
    """The flows a residents' report leaves out: the system's and the workers' flows."""
    workers = [f.id for f in library.flows.values() if not f.for_residents]
    return sorted(NOT_IN_REPORTS | set(workers))


@dataclass
class StepCount:
    """Each person's latest answer to one question: option codes and a scale value."""

    answers: dict[int, tuple[list[str], float | None, datetime]] = field(default_factory=dict)
    texts: defaultdict[str, list[tuple[datetime, str, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )


@dataclass
class FlowCount:
    """Who answered a flow, where, what, when; and how their latest run of it ended."""

    group: dict[int, str] = field(default_factory=dict)
    latest: dict[int, datetime] = field(default_factory=dict)
    steps: defaultdict[str, StepCount] = field(default_factory=lambda: defaultdict(StepCount))
    months: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    weeks: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    runs: dict[int, tuple[datetime, int, str, str]] = field(default_factory=dict)

    def people(self) -> dict[str, set[int]]:
        """People per group (and in total, under `total`)."""
        found: dict[str, set[int]] = defaultdict(set)
        for person, group in self.group.items():
            found[group].add(person)
        return found

    def outcome(self, person: int) -> tuple[str, str]:
        """(completed | answering | stopped | anonymised, the last step answered)."""
        run = self.runs.get(person)
        if person < 0 or run is None:
            return ANONYMISED, ""
        _, _, status, last = run
        if status == "finished":
            return COMPLETED, ""
        if status == "active":
            return ANSWERING, last
        return STOPPED, last


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


def _answers(connection: Connection, scope: Scope, library: FlowLibrary) -> Iterable[Any]:
    stmt = select(
        Answer.id,
        Answer.participant_id,
        Answer.flow_id,
        Answer.step_key,
        Answer.value,
        Answer.skipped,
        Answer.neighbourhood,
        Answer.created_at,
        Answer.language,
    ).where(
        *_period_filter(Answer.created_at, scope.period),
        _flows_filter(Answer.flow_id, scope, library),
    )
    return connection.execution_options(yield_per=BATCH).execute(stmt)


def _runs(connection: Connection, scope: Scope, library: FlowLibrary) -> Iterable[Any]:
    # The last step of each conversation, as one grouped query joined back: a correlated
    # "ORDER BY id DESC LIMIT 1" per conversation made PostgreSQL walk the answers'
    # primary key backwards for each one (minutes at 10,000 people).
    last_ids = (
        select(Answer.conversation_id, func.max(Answer.id).label("last_id"))
        .group_by(Answer.conversation_id)
        .subquery()
    )
    last_answer = aliased(Answer)
    stmt = select(
        Conversation.participant_id,
        Conversation.flow_id,
        Conversation.id,
        Conversation.started_at,
        Conversation.status,
        last_answer.step_key,
    )
    stmt = (
        stmt.outerjoin(last_ids, last_ids.c.conversation_id == Conversation.id)
        .outerjoin(last_answer, last_answer.id == last_ids.c.last_id)
        .where(_flows_filter(Conversation.flow_id, scope, library))
    )
    if scope.period.until is not None:
        stmt = stmt.where(Conversation.started_at < scope.period.until)
    return connection.execution_options(yield_per=BATCH).execute(stmt)


def count(
    connection: Connection, scope: Scope, labels: Labels, zone: ZoneInfo
) -> dict[str, FlowCount]:
    """Everything in `scope`'s period and flows, for every neighbourhood (the view of
    some neighbourhoods is taken later, from tables protected for all of them)."""
    flows: dict[str, FlowCount] = defaultdict(FlowCount)
    free: dict[tuple[str, str], bool] = {}
    kinds: dict[tuple[str, str], str | None] = {}
    for row in _answers(connection, scope, labels.library):
        aid, pid, flow_id, step_key, value, skipped, neighbourhood, created_at, language = row
        person = pid if pid is not None else -aid
        group = neighbourhood or ""
        acc = flows[flow_id]
        if person not in acc.latest or created_at >= acc.latest[person]:
            acc.latest[person] = created_at
            acc.group[person] = group
        local = created_at.astimezone(zone)
        acc.months[local.strftime("%Y-%m")].add(person)
        year, week, _ = local.isocalendar()
        acc.weeks[f"{year}-W{week:02d}"].add(person)
        key = (flow_id, step_key)
        if key not in free:
            free[key] = labels.is_free_text(flow_id, step_key)
            kinds[key] = labels.kind(flow_id, step_key)
        step = acc.steps[step_key]
        scale: float | None = None
        if skipped:
            codes = [SKIPPED]
        elif free[key]:
            codes = []
            text = free_text_of(value)
            if text and group in scope.free_text:
                step.texts[group].append((created_at, redact(text), language))
        else:
            codes = option_keys(value)
            if kinds[key] == "scale" and isinstance(value, int | float):
                scale = float(value)
        earlier = step.answers.get(person)
        if earlier is None or created_at >= earlier[2]:
            step.answers[person] = (codes, scale, created_at)
    for pid, flow_id, cid, started_at, status, last in _runs(connection, scope, labels.library):
        acc = flows.get(flow_id)
        if acc is None or pid not in acc.group:
            continue
        run = acc.runs.get(pid)
        if run is None or (started_at, cid) > (run[0], run[1]):
            acc.runs[pid] = (started_at, cid, status, last or "")
    return flows
