"""Activities: made by workers in chat (`/newactivity`), from the command line
(`buurtbot activities add`) or from an approved youth proposal (a draft); listed with
`/activities` — for workers with who comes, for residents the ones near them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import audit, roles
from bot.community.activity_fields import ActivityFields, check_activity
from bot.community.common import as_worker_text, get_record, localised, log, when
from bot.conversation.extensions import Actions, Extensions
from bot.deployment import Deployment
from bot.flows.engine import PREFILL
from bot.flows.state import State
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.language import language_name
from bot.i18n import bidi
from bot.settings import Settings
from bot.storage.models import Conversation, Participant, utcnow
from bot.storage.models.community import (
    DRAFT,
    GOING,
    MAYBE,
    NOT_GOING,
    PLANNED,
    Activity,
    ActivityOrganiser,
    Invitation,
    Rsvp,
)

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

NEW_ACTIVITY_FLOW = "new-activity"
RSVP_FLOW = "rsvp"
PLAN_FLOW = "plan-activity"
MAX_LISTED = 10


# ---- making and finding activities -----------------------------------------------------


async def create_activity(
    session: AsyncSession,
    *,
    title: str | Mapping[str, str],
    starts_at: datetime | None,
    place: str = "",
    description: str | Mapping[str, str] = "",
    neighbourhoods: Iterable[str] = (),
    age_groups: Iterable[str] = (),
    interests: Iterable[str] = (),
    languages: Iterable[str] = (),
    capacity: int | None = None,
    status: str = PLANNED,
    created_by: int | None = None,
    organisers: Sequence[tuple[int, str]] = (),
) -> Activity:
    """Store an activity; `organisers` are `(participant id, role)` pairs.

    `title` and `description` are plain texts or `{language: text}` (see
    `common.as_worker_text`).
    """
    if starts_at is not None and starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    if capacity is not None and capacity < 1:
        raise ValueError("capacity must be at least 1 (or None for no limit)")
    activity = Activity(
        title=as_worker_text(title),
        description=as_worker_text(description),
        starts_at=starts_at,
        place=place.strip()[:200],
        neighbourhoods=sorted(set(neighbourhoods)),
        age_groups=sorted(set(age_groups)),
        interests=sorted(set(interests)),
        languages=sorted(set(languages)),
        capacity=capacity,
        status=status,
        created_by=created_by,
    )
    session.add(activity)
    await session.flush()
    for participant_id, role in dict(organisers).items():
        session.add(
            ActivityOrganiser(activity_id=activity.id, participant_id=participant_id, role=role)
        )
    await session.flush()
    return activity


async def add_activity(
    session: AsyncSession,
    actor: audit.Actor,
    fields: ActivityFields,
    *,
    languages: Iterable[str] = (),
    created_by: int | None = None,
    organisers: Sequence[tuple[int, str]] = (),
) -> Activity:
    """A worker's (or the operator's) new activity, checked by
    `activity_fields.check_activity`, stored and written in the audit log.

    The chat, `buurtbot activities add` and the dashboard all make activities here;
    `create_activity` alone is for drafts from a proposal and for made-up data.
    """
    activity = await create_activity(
        session,
        title=fields.title,
        description=fields.description,
        starts_at=fields.starts_at,
        place=fields.place,
        neighbourhoods=fields.neighbourhoods,
        age_groups=fields.age_groups,
        interests=fields.interests,
        languages=languages,
        capacity=fields.capacity,
        created_by=created_by,
        organisers=organisers,
    )
    await audit.record(session, actor, audit.ACTIVITY_CREATED, audit.activity(activity.id))
    log.info("activity %s made by %s (%s)", activity.id, actor.pseudonym, actor.via)
    return activity


def local_moment(day: str, at: str, timezone: str) -> datetime:
    """An ISO day and `HH:MM` in the deployment's zone, as an aware UTC datetime."""
    moment = datetime.combine(
        date.fromisoformat(day), time.fromisoformat(at), tzinfo=ZoneInfo(timezone)
    )
    return moment.astimezone(UTC)


def parse_starts(text: str, timezone: str) -> datetime:
    """`2026-12-12T14:00` (local time) or with an offset, as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


async def upcoming(
    session: AsyncSession,
    *,
    allowed: frozenset[str] | None = None,
    neighbourhood: str | None = None,
    statuses: Sequence[str] = (PLANNED,),
    now: datetime | None = None,
    dated_only: bool = True,
) -> list[Activity]:
    """Activities still to come, soonest first.

    `allowed` limits them to a worker's neighbourhoods (any overlap; town-wide ones only
    for town-wide workers); `neighbourhood` to those for a resident's neighbourhood (and
    those for the whole town).
    """
    now = now or utcnow()
    conditions = [Activity.status.in_(list(statuses))]
    if dated_only:
        conditions.append(Activity.starts_at >= now)
    else:
        conditions.append(or_(Activity.starts_at.is_(None), Activity.starts_at >= now))
    rows = await session.execute(
        select(Activity)
        .where(*conditions)
        .order_by(Activity.starts_at.is_(None), Activity.starts_at, Activity.id)
    )
    found = []
    for activity in rows.scalars():
        places = activity.neighbourhoods or []
        if allowed is not None and not (set(places) & allowed):
            continue
        if neighbourhood is not None and places and neighbourhood not in places:
            continue
        found.append(activity)
    return found


@dataclass
class Counts:
    """Who answered what for one activity."""

    going: int = 0
    waiting: int = 0
    maybe: int = 0
    not_going: int = 0
    invited: int = 0


async def counts(session: AsyncSession, activity_ids: Iterable[int]) -> dict[int, Counts]:
    ids = list(set(activity_ids))
    found = {activity_id: Counts() for activity_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(Rsvp.activity_id, Rsvp.answer, Rsvp.waiting, func.count())
        .where(Rsvp.activity_id.in_(ids))
        .group_by(Rsvp.activity_id, Rsvp.answer, Rsvp.waiting)
    )
    for activity_id, answer, waiting, number in rows.all():
        entry = found[activity_id]
        if answer == GOING and waiting:
            entry.waiting += number
        elif answer == GOING:
            entry.going += number
        elif answer == MAYBE:
            entry.maybe += number
        elif answer == NOT_GOING:
            entry.not_going += number
    invited = await session.execute(
        select(Invitation.activity_id, func.count())
        .where(Invitation.activity_id.in_(ids))
        .group_by(Invitation.activity_id)
    )
    for activity_id, number in invited.all():
        found[activity_id].invited = number
    return found


# ---- how activities read ---------------------------------------------------------------


def title_in(activity: Activity, language: str) -> str:
    return localised(activity.title, language)


def label(parts: Parts, activity: Activity, language: str) -> str:
    """`Buurtbarbecue – zaterdag 12 juni om 14:00` in `language`."""
    title = title_in(activity, language)
    if activity.starts_at is None:
        return title
    return f"{title} – {when(parts, activity.starts_at, language)}"


def places_text(deployment: Deployment, keys: Iterable[str]) -> str:
    return ", ".join(
        found.name if (found := deployment.neighbourhood(key)) else key for key in keys
    )


def neighbourhood_options(
    deployment: Deployment, allowed: frozenset[str] | None
) -> list[dict[str, Any]]:
    return [
        option(n.key, n.name)
        for n in deployment.neighbourhoods
        if allowed is None or n.key in allowed
    ]


def language_options(settings: Settings) -> list[dict[str, Any]]:
    return [option(code, language_name(code)) for code in settings.language_list]


# ---- /newactivity ----------------------------------------------------------------------


async def start_new_activity(actions: Actions, argument: str) -> None:
    allowed = await roles.require_worker(actions, "/newactivity")
    wanted = argument.strip().lstrip("#")
    if wanted:
        await _start_plan(actions, wanted)
        return
    places = neighbourhood_options(actions.parts.deployment, allowed)
    if not places:
        actions.say(actions.t.gettext("You do not work in any neighbourhood of this town."))
        return
    variables: dict[str, Any] = {
        "neighbourhoods": places,
        "languages": language_options(actions.parts.settings),
    }
    if len(places) == 1:
        variables[PREFILL] = {"where": json.dumps([places[0]["value"]])}
    await actions.start_flow(NEW_ACTIVITY_FLOW, variables)


async def _draft_for(actions: Actions, wanted: object, what: str) -> Activity | None:
    """A draft activity the worker may plan, checked again on the server."""
    allowed = await roles.require_worker(actions, what)
    draft = await get_record(actions.session, Activity, wanted)
    if draft is None or draft.status != DRAFT:
        return None
    if allowed is not None and not (set(draft.neighbourhoods) & allowed):
        log.warning(
            "%s refused: participant %s does not work where activity %s is",
            what,
            actions.participant.id,
            draft.id,
        )
        return None
    return draft


async def _start_plan(actions: Actions, wanted: str) -> None:
    """`/newactivity 12`: give draft 12 (an approved proposal) a date, time and place."""
    draft = await _draft_for(actions, wanted, "/newactivity")
    if draft is None:
        actions.say(actions.t.gettext("There is no draft activity with that number."))
        return
    language = actions.participant.language or actions.parts.settings.default_language
    await actions.start_flow(
        PLAN_FLOW, {"activity_id": draft.id, "title": title_in(draft, language)}
    )


async def plan_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    from bot.community.manage import update_activity  # manage builds on this module

    t = actions.t
    values = state.values
    try:
        draft = await _draft_for(actions, state.variables.get("activity_id"), "plan-activity")
    except roles.Refused:
        draft = None
    if draft is None:
        actions.say(t.gettext("Sorry, you cannot plan this activity."))
        return
    settings = actions.parts.settings
    starts_at = local_moment(str(values["date"]), str(values["time"]), settings.timezone)
    if starts_at < utcnow():
        actions.say(t.gettext("That moment has already passed. Type /newactivity to try again."))
        return
    name = str(values.get("name") or "").strip() if values.get("rename") else ""
    await update_activity(
        actions.session,
        actions.parts,
        draft,
        actor=audit.Actor.worker(settings, actions.participant, audit.CHAT),
        starts_at=starts_at,
        title=as_worker_text(name) if name else None,
        place=str(values["place"]) if values.get("place") else None,
        capacity=int(values["capacity"]) if values.get("has_limit") else None,
        plan=True,
    )
    _saved(actions, draft)


async def new_activity_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    values = state.values
    t = actions.t
    where = list(values.get("where") or [])
    try:
        allowed = await roles.require_worker(actions, "new activity", where)
    except roles.Refused:
        actions.say(t.gettext("Sorry, you cannot make an activity there."))
        return
    parts = actions.parts
    description = str(values.get("description") or "")
    checked = check_activity(
        t,
        settings=parts.settings,
        deployment=parts.deployment,
        allowed=allowed,
        title={"_": str(values["title"]), **(values.get("title_translations") or {})},
        description={"_": description, **(values.get("description_translations") or {})}
        if description
        else {},
        day=str(values["date"]),
        at=str(values["time"]),
        place=str(values.get("place") or ""),
        neighbourhoods=where,
        age_groups=values.get("ages") or [],
        interests=values.get("interests") or [],
        capacity=values.get("capacity") if values.get("has_limit") else None,
    )
    if checked.fields is None:
        actions.say(next(iter(checked.problems.values())))
        actions.say(t.gettext("Type /newactivity to try again."))
        return
    activity = await add_activity(
        actions.session,
        audit.Actor.worker(parts.settings, actions.participant, audit.CHAT),
        checked.fields,
        languages=values.get("languages") or [],
        created_by=actions.participant.id,
        organisers=[(actions.participant.id, "organiser")],
    )
    _saved(actions, activity)


def _saved(actions: Actions, activity: Activity) -> None:
    t = actions.t
    language = actions.participant.language or actions.parts.settings.default_language
    assert activity.starts_at is not None
    actions.say(
        bidi.fill(
            t.gettext('Saved: "{title}" on {when} (number {id}).'),
            language,
            title=title_in(activity, language),
            when=when(actions.parts, activity.starts_at, language),
            id=activity.id,
        )
    )
    actions.say(t.gettext("Type /invite {id} to invite residents.").format(id=activity.id))


# ---- /activities -----------------------------------------------------------------------


async def list_activities(actions: Actions, argument: str) -> None:
    if roles.is_worker(actions.participant):
        await _worker_list(actions)
    else:
        await _resident_list(actions)


async def _worker_list(actions: Actions) -> None:
    t = actions.t
    session = actions.session
    parts = actions.parts
    allowed = await roles.scope(session, actions.participant)
    language = actions.participant.language or parts.settings.default_language
    found = await upcoming(session, allowed=allowed, statuses=(PLANNED, DRAFT), dated_only=False)
    if not found:
        actions.say(t.gettext("There are no upcoming activities. Make one with /newactivity."))
        return
    numbers = await counts(session, [a.id for a in found])
    lines = [t.gettext("Upcoming activities:")]
    for activity in found:
        entry = numbers[activity.id]
        head = f"#{activity.id} {label(parts, activity, language)}"
        if activity.status == DRAFT:
            head += " · " + t.gettext("draft")
        if activity.place:
            head += f" · {activity.place}"
        lines.append(head)
        if activity.capacity:
            going = t.gettext("going: {n} of {places}").format(
                n=entry.going, places=activity.capacity
            )
        else:
            going = t.gettext("going: {n}").format(n=entry.going)
        parts = [
            going,
            t.gettext("maybe: {n}").format(n=entry.maybe),
            t.gettext("can't: {n}").format(n=entry.not_going),
        ]
        if entry.waiting:
            parts.append(t.gettext("waiting list: {n}").format(n=entry.waiting))
        parts.append(t.gettext("invited: {n}").format(n=entry.invited))
        lines.append("   " + " · ".join(parts))
    actions.say("\n".join(lines))
    from bot.community.manage import start_manage  # manage builds on this module

    await start_manage(actions, found)


async def _resident_list(actions: Actions) -> None:
    t = actions.t
    participant = actions.participant
    if participant.consented_at is None:
        actions.say(t.gettext("First, let us get to know each other. Type /start."))
        return
    options, text = await resident_choices(actions, participant)
    if not options:
        actions.say(t.gettext("There are no activities planned in your neighbourhood right now."))
        return
    await actions.start_flow(RSVP_FLOW, {"activities": options, "activity_list": text})


async def resident_choices(
    actions: Actions, participant: Participant
) -> tuple[list[dict[str, Any]], str]:
    """The activities a resident can answer: near them, or ones they were invited to."""
    session = actions.session
    parts = actions.parts
    t = actions.t
    language = participant.language or parts.settings.default_language
    # Without a neighbourhood, only the activities for the whole town are near.
    near = await upcoming(session, neighbourhood=participant.neighbourhood or "")
    invited_ids = set(
        (
            await session.execute(
                select(Invitation.activity_id).where(Invitation.participant_id == participant.id)
            )
        ).scalars()
    )
    answers = dict(
        (
            await session.execute(
                select(Rsvp.activity_id, Rsvp.answer).where(Rsvp.participant_id == participant.id)
            )
        ).all()
    )
    extra_ids = (invited_ids | set(answers)) - {a.id for a in near}
    if extra_ids:
        near += [a for a in await upcoming(session) if a.id in extra_ids and a.status == PLANNED]
        near.sort(key=lambda a: (a.starts_at or utcnow(), a.id))
    near = near[:MAX_LISTED]
    shown = {
        GOING: t.gettext("you said: I will come"),
        MAYBE: t.gettext("you said: maybe"),
        NOT_GOING: t.gettext("you said: I can't come"),
    }
    options = []
    lines = [t.gettext("Activities near you:")]
    for number, activity in enumerate(near, start=1):
        text = label(parts, activity, language)
        line = f"{number}. {text}"
        if activity.place:
            line += f", {activity.place}"
        if activity.id in answers:
            line += f" ({shown[answers[activity.id]]})"
        lines.append(line)
        options.append(option(activity.id, text))
    return options, "\n".join(lines)


def register(extensions: Extensions) -> None:
    extensions.command(
        "newactivity",
        role="worker",
        help=lambda t: t.gettext("/newactivity – make an activity"),
        listed="worker",
        order=110,
    )(start_new_activity)
    extensions.command(
        "activities",
        help=lambda t: t.gettext(
            "/activities – upcoming activities, who comes; change or cancel one"
        ),
        listed="worker",
        order=130,
    )(list_activities)
    extensions.on_finish(NEW_ACTIVITY_FLOW)(new_activity_finished)
    extensions.on_finish(PLAN_FLOW)(plan_finished)
