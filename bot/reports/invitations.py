"""Invitations and their answers, a table per activity, read through the ORM models.

Each person invited to (or answering) an activity is counted once, in one line: the
invitation not sent yet (queued in the outbox), not delivered, sent without an answer
yet, or their answer: going, on the waiting list (said going when it was full), maybe,
can't come. Going and the waiting list are apart: only the first have a place. People
are counted in their neighbourhood, protected like every other table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.flows.labels import Labels
from bot.reports.counting import Key, _period_filter
from bot.reports.model import Scope, Table
from bot.reports.tables import Builder, slug
from bot.storage.models import OutboxMessage, Participant
from bot.storage.models.community import GOING, MAYBE, NOT_GOING, Activity, Invitation, Rsvp
from bot.storage.models.outbox import QUEUED, SENDING, SENT

QUEUED_LINE, UNDELIVERED, NO_ANSWER = "queued", "not_delivered", "no_answer"
GOING_LINE, WAITING, MAYBE_LINE, CANT = "going", "waiting", "maybe", "cant"
ORDER = (GOING_LINE, WAITING, MAYBE_LINE, CANT, NO_ANSWER, QUEUED_LINE, UNDELIVERED)


def _state(answer: str | None, waiting: bool, sent: str | None) -> str:
    if answer == GOING:
        return WAITING if waiting else GOING_LINE
    if answer == MAYBE:
        return MAYBE_LINE
    if answer == NOT_GOING:
        return CANT
    if sent in (QUEUED, SENDING):
        return QUEUED_LINE
    if sent is None or sent == SENT:
        return NO_ANSWER
    return UNDELIVERED


def _title(value: Any, language: str) -> str:
    """An activity's title in the report's language, else as the worker wrote it."""
    if isinstance(value, dict):
        for key in (language, "_"):
            if isinstance(value.get(key), str) and value[key]:
                return value[key]
        return next((v for v in value.values() if isinstance(v, str)), "")
    return str(value or "")


def invitations(
    connection: Connection,
    builder: Builder,
    scope: Scope,
    labels: Labels,
    zone: ZoneInfo,
    language: str = "",
) -> list[Table]:
    """A table per activity (starting in the period), in order of its start."""
    t = labels.t
    activities = select(Activity.id).where(*_period_filter(Activity.starts_at, scope.period))
    people: dict[int, dict[int, tuple[str | None, bool, Key]]] = {}
    for activity_id, pid, group in connection.execute(
        select(Invitation.activity_id, Invitation.participant_id, Participant.neighbourhood)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(Invitation.activity_id.in_(activities))
    ):
        people.setdefault(activity_id, {})[pid] = (None, False, group or "")
    for activity_id, pid, group, answer, waiting in connection.execute(
        select(
            Rsvp.activity_id,
            Rsvp.participant_id,
            Participant.neighbourhood,
            Rsvp.answer,
            Rsvp.waiting,
        )
        .join(Participant, Participant.id == Rsvp.participant_id)
        .where(Rsvp.activity_id.in_(activities))
    ):
        people.setdefault(activity_id, {})[pid] = (answer, bool(waiting), group or "")
    if not people:
        return []
    sent: dict[str, str] = {}
    for key, status in connection.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
            OutboxMessage.kind == "invitation", OutboxMessage.dedupe_key.is_not(None)
        )
    ):
        sent[key] = status
    about = {
        row.id: (row.title, row.starts_at)
        for row in connection.execute(
            select(Activity.id, Activity.title, Activity.starts_at).where(
                Activity.id.in_(list(people))
            )
        )
    }
    names = {
        GOING_LINE: t.gettext("Going"),
        WAITING: t.gettext("On the waiting list"),
        MAYBE_LINE: t.gettext("Maybe"),
        CANT: t.gettext("Cannot come"),
        NO_ANSWER: t.gettext("Invitation sent, no answer yet"),
        QUEUED_LINE: t.gettext("Invitation not sent yet"),
        UNDELIVERED: t.gettext("Invitation not delivered"),
    }

    def starts(activity_id: int) -> tuple[bool, str, int]:
        moment = about.get(activity_id, (None, None))[1]
        return (moment is None, moment.isoformat() if moment else "", activity_id)

    tables = []
    for activity_id in sorted(people, key=starts):
        everyone: Counter[Key] = Counter()
        lines: dict[str, Counter[Key]] = {key: Counter() for key in ORDER}
        for pid, (answer, waiting, key) in people[activity_id].items():
            state = _state(answer, waiting, sent.get(f"invitation:{activity_id}:{pid}"))
            everyone[key] += 1
            lines[state][key] += 1
        title, starts_at = about.get(activity_id, ("", None))
        name = _title(title, language) or str(activity_id)
        if starts_at is not None:
            local = starts_at.astimezone(zone) if starts_at.tzinfo else starts_at
            name = f"{name} ({local:%Y-%m-%d %H:%M})"
        table = builder.table(
            slug("activity", str(activity_id)),
            t.gettext("Invitations: {activity}").format(activity=name),
            ("people", t.gettext("Invited or answered"), everyone),
            [(key, names[key], lines[key]) for key in _shown(lines)],
            sizes=builder.counts(everyone),
            exclusive=True,
            kind="invitations",
        )
        tables.append(table)
    return tables


def _shown(lines: dict[str, Counter[Key]]) -> Iterable[str]:
    """The answers always; the states of sending only when someone is in them."""
    for key in ORDER:
        if key in (GOING_LINE, WAITING, MAYBE_LINE, CANT, NO_ANSWER) or lines[key]:
            yield key
