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
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import changes, roles
from bot.community.activities import (
    label,
    language_options,
    local_moment,
    neighbourhood_options,
    title_in,
    upcoming,
)
from bot.community.common import get_record, log, quiet_hours, when, when_by_language
from bot.conversation.extensions import Actions, Extensions
from bot.flows import engine
from bot.flows.engine import PREFILL
from bot.flows.events import Ask, Say
from bot.flows.state import State
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.language import language_name
from bot.i18n import bidi
from bot.outbox.quiet_hours import hold
from bot.storage.db import insert_for
from bot.storage.models import Conversation, Participant, utcnow
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


async def select_audience(
    session: AsyncSession,
    audience: Audience,
    *,
    activity_id: int | None = None,
    now: datetime | None = None,
) -> list[Participant]:
    """The people an invitation reaches, each once, by id; those already invited to
    `activity_id` are left out."""
    now = now or utcnow()
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
    rows = await session.execute(select(Participant).where(*conditions).order_by(Participant.id))
    found = list(rows.scalars())
    if audience.interests:
        wanted = set(audience.interests)
        # Who said yes to joining an activity is interested in any of their neighbourhood.
        found = [p for p in found if p.wants_activities or wanted & set(p.interests or [])]
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


def preview(parts: Parts, activity: Activity, language: str) -> str:
    """The invitation exactly as a person with `language` would see it."""
    person = Participant(language=language)
    ctx = parts.context(person)
    turn, _ = engine.start(
        parts.library[INVITATION_FLOW], ctx, invitation_variables(parts, activity)
    )
    return render_text(turn.messages)


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


# ---- /invite ---------------------------------------------------------------------------


async def start_invite(actions: Actions, argument: str) -> None:
    t = actions.t
    allowed = await roles.require_worker(actions, "/invite")
    parts = actions.parts
    language = actions.participant.language or parts.settings.default_language
    found = await upcoming(actions.session, allowed=allowed, statuses=(PLANNED, DRAFT))
    if not found:
        actions.say(
            t.gettext(
                "There are no upcoming activities to invite people to. Make one with /newactivity."
            )
        )
        return
    places = neighbourhood_options(parts.deployment, allowed)
    variables: dict[str, Any] = {
        "activities": [option(a.id, label(parts, a, language)) for a in found],
        "neighbourhoods": places,
        "languages": language_options(parts.settings),
    }
    prefill: dict[str, Any] = {}
    wanted = argument.strip().lstrip("#")
    if wanted.isdigit() and any(a.id == int(wanted) for a in found):
        prefill["activity"] = wanted
    elif len(found) == 1:
        prefill["activity"] = str(found[0].id)
    elif wanted:
        actions.say(t.gettext("There is no upcoming activity with that number. Choose one:"))
    if len(places) == 1:
        prefill["where"] = json.dumps([places[0]["value"]])
    if prefill:
        variables[PREFILL] = prefill
    await actions.start_flow(INVITE_FLOW, variables)


async def _activity_for(actions: Actions, activity_id: Any, what: str) -> Activity | None:
    """The activity a worker may invite to, checked again on the server; None if not."""
    allowed = await roles.require_worker(actions, what)
    activity = await get_record(actions.session, Activity, activity_id)
    refusal = await changes.broadcast_refusal(actions.session, activity)
    if activity is None or refusal is not None:
        log.warning("%s refused: activity %s: %s", what, activity_id, refusal)
        return None
    if not roles.may_act_on(allowed, activity.neighbourhoods):
        log.warning(
            "%s refused: participant %s does not work where activity %s is",
            what,
            actions.participant.id,
            activity.id,
        )
        return None
    return activity


async def invite_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    values = state.values
    parts = actions.parts
    settings = parts.settings
    where = list(values.get("where") or [])
    try:
        checked = await _activity_for(actions, values.get("activity"), "invite")
        await roles.require_worker(actions, "invite", where)
    except roles.Refused:
        checked = None
    if checked is None:
        actions.say(t.gettext("Sorry, you cannot invite people to this activity."))
        return
    activity = checked
    audience = Audience.of(
        neighbourhoods=where,
        age_groups=values.get("ages") or [],
        interests=values.get("interests") or [],
        languages=values.get("languages") or [],
        past_participants=values.get("past") == "past",
    )
    people = await select_audience(actions.session, audience, activity_id=activity.id)
    if not people:
        actions.say(
            t.gettext(
                "Nobody matches these choices (or everyone was already invited). "
                "Type /invite to try other choices."
            )
        )
        return
    by_language = reach(people, settings.default_language)
    lines = [
        t.ngettext(
            "This invitation reaches {n} person:",
            "This invitation reaches {n} people:",
            len(people),
        ).format(n=len(people))
    ]
    for code, number in by_language.most_common():
        lines.append(f"• {language_name(code)}: {number}")
    summary = "\n".join(lines)
    for code, _ in by_language.most_common():
        actions.say(
            t.gettext("Preview in {language}:").format(language=language_name(code))
            + "\n"
            + preview(parts, activity, code)
        )
    await actions.start_flow(
        CONFIRM_FLOW,
        {"activity_id": activity.id, "audience": audience.to_json(), "reach": summary},
    )


async def confirm_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    values = state.values
    variables = state.variables
    parts = actions.parts
    settings = parts.settings
    if values.get("send") == "cancel":
        actions.say(t.gettext("OK. Nothing was sent."))
        return
    audience = Audience.from_json(dict(variables.get("audience") or {}))
    try:
        checked = await _activity_for(actions, variables.get("activity_id"), "invite-confirm")
        await roles.require_worker(actions, "invite-confirm", audience.neighbourhoods)
    except roles.Refused:
        checked = None
    if checked is None:
        actions.say(t.gettext("Sorry, you cannot invite people to this activity."))
        return
    activity = checked
    now = utcnow()
    due = now
    if values.get("send") == "later" and values.get("day") and values.get("at"):
        due = max(now, local_moment(str(values["day"]), str(values["at"]), settings.timezone))
    people = await select_audience(actions.session, audience, activity_id=activity.id)
    queued, _ = await queue_invitations(
        actions.session, parts, activity, people, due_at=due, invited_by=actions.participant.id
    )
    language = actions.participant.language or settings.default_language
    goes = hold(quiet_hours(settings), due, urgent=False)
    actions.say(
        bidi.fill(
            t.ngettext(
                'Done: {n} invitation to "{title}" is queued.',
                'Done: {n} invitations to "{title}" are queued.',
                queued,
            ),
            language,
            n=queued,
            title=title_in(activity, language),
        )
    )
    if goes > now:
        actions.say(t.gettext("They go out on {when}.").format(when=when(parts, goes, language)))
    actions.say(t.gettext("Type /activities to see who comes."))


def register(extensions: Extensions) -> None:
    extensions.command(
        "invite",
        role="worker",
        help=lambda t: t.gettext("/invite – invite residents to an activity"),
        listed="worker",
        order=120,
    )(start_invite)
    extensions.on_finish(INVITE_FLOW)(invite_finished)
    extensions.on_finish(CONFIRM_FLOW)(confirm_finished)
