"""Invitations: choose an activity and an audience, see the reach and a preview in each
language, confirm, and the invitations are queued in the outbox.

The audience is every participant who consented, did not stop (`/stop`) and can be
reached, and who matches every kind of criterion given (neighbourhood, age group,
interest, language, took part before); within one kind any value matches. Workers are
not invited. Each person is invited to an activity once, even when they match several
criteria or a second invitation round is sent: the `invitations` table has one row per
person and activity, and the outbox a dedupe key per person and activity.

An invitation is the `invitation` flow, started when the outbox sends it: the person
gets it in their language at that moment, with the date and time in their locale.

Whether it may go, to whom and when is decided in `bot.community.broadcasts` (for the
chat's `/invite` in `invite.py`, `buurtbot broadcast` and the dashboard alike).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, and_, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from bot import outbox
from bot.community import changes, roles
from bot.community.common import log, quiet_hours, when_by_language
from bot.flows import engine
from bot.flows.events import Ask, Say
from bot.storage.db import insert_for
from bot.storage.models import Participant, utcnow
from bot.storage.models.community import (
    DRAFT,
    GOING,
    PLANNED,
    Activity,
    Invitation,
    Rsvp,
)

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

INVITATION_FLOW = "invitation"
INVITE_FLOW = "invite"
CONFIRM_FLOW = "invite-confirm"


@dataclass(frozen=True)
class Audience:
    """Who to invite. Empty criteria match everyone; `past_participants` means people who
    were going to an earlier activity."""

    neighbourhoods: tuple[str, ...] = ()
    age_groups: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    past_participants: bool = False

    @classmethod
    def of(
        cls,
        neighbourhoods: Iterable[str] = (),
        age_groups: Iterable[str] = (),
        interests: Iterable[str] = (),
        languages: Iterable[str] = (),
        past_participants: bool = False,
    ) -> Audience:
        def norm(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(sorted({str(v) for v in values or () if str(v)}))

        return cls(
            norm(neighbourhoods),
            norm(age_groups),
            norm(interests),
            norm(languages),
            bool(past_participants),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls.of(**data)


def _conditions(
    audience: Audience, activity_id: int | None, now: datetime
) -> list[ColumnElement[bool]]:
    """Who may be reached, as SQL: every criterion of `audience` but the interests."""
    conditions = [
        Participant.consented_at.is_not(None),
        Participant.opted_out_at.is_(None),
        Participant.unreachable_at.is_(None),
        Participant.role.not_in(roles.WORKER_ROLES),
    ]
    if audience.neighbourhoods:
        conditions.append(Participant.neighbourhood.in_(audience.neighbourhoods))
    if audience.age_groups:
        conditions.append(Participant.age_group.in_(audience.age_groups))
    if audience.languages:
        conditions.append(Participant.language.in_(audience.languages))
    if audience.past_participants:
        earlier = (
            select(Rsvp.id)
            .join(Activity, Activity.id == Rsvp.activity_id)
            .where(
                Rsvp.participant_id == Participant.id,
                Rsvp.answer == GOING,
                Rsvp.waiting.is_(False),
                Activity.starts_at < now,
            )
        )
        conditions.append(exists(earlier))
    if activity_id is not None:
        conditions.append(
            ~exists().where(
                and_(
                    Invitation.participant_id == Participant.id,
                    Invitation.activity_id == activity_id,
                )
            )
        )
    return conditions


def _interested(audience: Audience, wants_activities: bool, interests: Any) -> bool:
    """The interests criterion (none given: everyone). Who said yes to joining an
    activity is interested in any of their neighbourhood."""
    if not audience.interests:
        return True
    return bool(wants_activities or set(audience.interests) & set(interests or []))


async def select_audience(
    session: AsyncSession,
    audience: Audience,
    *,
    activity_id: int | None = None,
    now: datetime | None = None,
) -> list[Participant]:
    """The people an invitation reaches, each once, by id; those already invited to
    `activity_id` are left out."""
    conditions = _conditions(audience, activity_id, now or utcnow())
    rows = await session.execute(select(Participant).where(*conditions).order_by(Participant.id))
    return [p for p in rows.scalars() if _interested(audience, p.wants_activities, p.interests)]


async def count_audience(
    session: AsyncSession,
    audience: Audience,
    default_language: str,
    *,
    activity_id: int | None = None,
    now: datetime | None = None,
) -> Counter[str]:
    """How many people `select_audience` finds, by the language they get it in: counted
    by the database (a row a language, or a language and set of interests when
    interests are asked for), so that a preview of the reach does not load the town."""
    conditions = _conditions(audience, activity_id, now or utcnow())
    columns: list[Any] = [Participant.language]
    if audience.interests:
        columns += [Participant.wants_activities, cast(Participant.interests, Text)]
    found: Counter[str] = Counter()
    rows = await session.execute(
        select(*columns, func.count()).where(*conditions).group_by(*columns)
    )
    for row in rows:
        language, n = row[0], row[-1]
        if audience.interests:
            interests = json.loads(row[2]) if row[2] is not None else None
            if not _interested(audience, row[1], interests):
                continue
        found[language or default_language] += n
    return found


def reach(people: Iterable[Participant], default_language: str) -> Counter[str]:
    """How many people get it in each language."""
    return Counter(p.language or default_language for p in people)


# ---- the invitation itself -------------------------------------------------------------


def invitation_variables(parts: Parts, activity: Activity) -> dict[str, Any]:
    """What the `invitation` flow is started with; texts in every offered language, so the
    flow shows the person's own at send time."""
    settings = parts.settings
    languages = settings.language_list
    names = [
        found.name if (found := parts.deployment.neighbourhood(key)) else key
        for key in activity.neighbourhoods
    ]
    assert activity.starts_at is not None
    return {
        "activity_id": activity.id,
        "title": activity.title,
        "description": activity.description,
        "place": activity.place,
        "when": when_by_language(settings, parts.catalogs, activity.starts_at, languages),
        "neighbourhood": ", ".join(names),
    }


def render_text(messages: Sequence[Any]) -> str:
    """Messages as plain text, buttons in brackets: for previews."""
    lines = []
    for message in messages:
        if isinstance(message, Say):
            lines.append(message.text.strip())
        elif isinstance(message, Ask):
            lines.append(message.text.strip())
            lines.append(" ".join(f"[{o.label}]" for o in message.options))
    return "\n".join(line for line in lines if line)


def preview_messages(parts: Parts, activity: Activity, language: str) -> list[Any]:
    """The invitation's first messages for a person with `language`, as the engine makes
    them when the outbox starts the flow (each channel then shows them its way)."""
    person = Participant(language=language)
    ctx = parts.context(person)
    turn, _ = engine.start(
        parts.library[INVITATION_FLOW], ctx, invitation_variables(parts, activity)
    )
    return list(turn.messages)


def preview(parts: Parts, activity: Activity, language: str) -> str:
    """The invitation as a person with `language` would see it, as plain text."""
    return render_text(preview_messages(parts, activity, language))


async def queue_invitations(
    session: AsyncSession,
    parts: Parts,
    activity: Activity,
    people: Sequence[Participant],
    *,
    due_at: datetime | None = None,
    invited_by: int | None = None,
) -> tuple[int, str]:
    """Record and queue the invitations; (how many were new, the batch id).

    A draft activity is planned from now on: residents see it in /activities. An
    activity that may not be broadcast (`changes.broadcast_refusal`) raises
    `changes.NotBroadcastable`. An invitation not sent by the time the activity starts
    is cancelled (it expires then).
    """
    refusal = await changes.broadcast_refusal(session, activity)
    if refusal is not None:
        raise changes.NotBroadcastable(refusal)
    assert activity.starts_at is not None
    batch_id = uuid.uuid4().hex
    now = utcnow()
    new_ids: list[int] = []
    rows = [
        {
            "activity_id": activity.id,
            "participant_id": person.id,
            "batch_id": batch_id,
            "invited_by": invited_by,
            "created_at": now,
        }
        for person in people
    ]
    for start in range(0, len(rows), 500):
        statement = (
            insert_for(session, Invitation)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=["activity_id", "participant_id"])
            .returning(Invitation.participant_id)
        )
        new_ids.extend((await session.execute(statement)).scalars())
    if activity.status == DRAFT:
        activity.status = PLANNED
    content = outbox.flow(INVITATION_FLOW, invitation_variables(parts, activity))
    items = [
        outbox.Item(
            participant_id=pid,
            kind="invitation",
            content=content,
            due_at=due_at or now,
            dedupe_key=f"{changes.invitation_key_prefix(activity.id)}{pid}",
            batch_id=batch_id,
            expires_at=activity.starts_at,
        )
        for pid in new_ids
    ]
    queued = await outbox.enqueue_many(session, items, quiet=quiet_hours(parts.settings))
    log.info(
        "activity %s: %d invitations queued (batch %s) by %s",
        activity.id,
        queued,
        batch_id,
        invited_by if invited_by is not None else "the command line",
    )
    return queued, batch_id
