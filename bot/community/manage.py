"""Changing an activity after it was made: from `/activities` in the chat (the
`manage-activity` flow), from `/newactivity <draft>` (planning an approved proposal), and
from the dashboard's activity form.

`update_activity` is the one place a change happens, and it writes the audit entry:
invitations still queued get the new details (they are rendered when they are sent, from
what was queued), and when the day, time or place changes, everyone who said going or
maybe is told, in their language. A higher maximum gives the first people on the
waiting list their place. Cancelling and stopping queued invitations are rules of their
own (`bot.community.changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import audit, changes, invitations, roles, rsvp
from bot.community.activities import label, local_moment, title_in, upcoming
from bot.community.common import get_record, log, notify, translator, when, worker_text
from bot.conversation.extensions import Actions, Extensions
from bot.flows.state import State
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.language import language_name
from bot.i18n import bidi
from bot.storage.models import Conversation, OutboxMessage, Participant, utcnow
from bot.storage.models.community import CANCELLED, DRAFT, GOING, MAYBE, PLANNED, Activity, Rsvp
from bot.storage.models.outbox import QUEUED

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

MANAGE_FLOW = "manage-activity"
UNSET: Any = object()


@dataclass
class Updated:
    """What a change did: people told, queued invitations brought up to date."""

    told: int = 0
    refreshed: int = 0


async def update_activity(
    session: AsyncSession,
    parts: Parts,
    activity: Activity,
    *,
    actor: audit.Actor,
    starts_at: datetime | None = None,
    place: str | None = None,
    capacity: int | None = UNSET,
    title: dict[str, str] | None = None,
    description: dict[str, str] | None = None,
    neighbourhoods: list[str] | None = None,
    age_groups: list[str] | None = None,
    interests: list[str] | None = None,
    plan: bool = False,
    now: datetime | None = None,
) -> Updated:
    """Change what is given (None: unchanged; `capacity` None: no maximum); tell who it
    concerns. `plan` makes a dated draft a planned activity. Raises ValueError for a
    past time or a cancelled activity (the callers check first; this is the last guard).
    """
    now = now or utcnow()
    done = Updated()
    if activity.status == CANCELLED:
        raise ValueError("a cancelled activity cannot be changed")
    if starts_at is not None and starts_at <= now:
        raise ValueError("the new start has already passed")
    moved = starts_at is not None and starts_at != activity.starts_at
    relocated = place is not None and place.strip()[:200] != activity.place
    if starts_at is not None:
        activity.starts_at = starts_at
    if place is not None:
        activity.place = place.strip()[:200]
    if capacity is not UNSET:
        if capacity is not None and capacity < 1:
            raise ValueError("a maximum is at least 1")
        activity.capacity = capacity
    if title is not None:
        activity.title = title
    if description is not None:
        activity.description = description
    if neighbourhoods is not None:
        activity.neighbourhoods = sorted(set(neighbourhoods))
    if age_groups is not None:
        activity.age_groups = sorted(set(age_groups))
    if interests is not None:
        activity.interests = sorted(set(interests))
    if plan and activity.status == DRAFT and activity.starts_at is not None:
        activity.status = PLANNED
    await session.flush()
    await audit.record(session, actor, audit.ACTIVITY_CHANGED, audit.activity(activity.id))
    done.refreshed = await _refresh_queued(session, parts, activity)
    if capacity is not UNSET:
        await rsvp.promote(session, parts, activity, now)
    if moved or relocated:
        done.told = await _tell_change(session, parts, activity)
    log.info(
        "activity %s changed: %d told, %d queued refreshed", activity.id, done.told, done.refreshed
    )
    return done


async def _refresh_queued(session: AsyncSession, parts: Parts, activity: Activity) -> int:
    """Queued invitations carry the details as they were: give them the new ones."""
    content = outbox.flow(
        invitations.INVITATION_FLOW, invitations.invitation_variables(parts, activity)
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == QUEUED,
            OutboxMessage.dedupe_key.startswith(
                changes.invitation_key_prefix(activity.id), autoescape=True
            ),
        )
        .values(content=content, expires_at=activity.starts_at)
    )
    return result.rowcount or 0


async def _tell_change(session: AsyncSession, parts: Parts, activity: Activity) -> int:
    rows = await session.execute(
        select(Participant)
        .join(Rsvp, Rsvp.participant_id == Participant.id)
        .where(Rsvp.activity_id == activity.id, Rsvp.answer.in_((GOING, MAYBE)))
        .order_by(Participant.id)
    )
    told = 0
    stamp = activity.starts_at.isoformat() if activity.starts_at else ""
    for person in rows.scalars():
        language = person.language or parts.settings.default_language
        t = translator(parts, person)
        assert activity.starts_at is not None
        text = bidi.fill(
            t.gettext('"{title}" has changed. It is now on {when}, at {place}.'),
            language,
            title=title_in(activity, language),
            when=when(parts, activity.starts_at, language),
            place=activity.place or "-",
        )
        queued = await notify(
            session,
            parts.settings,
            person.id,
            outbox.text(text),
            dedupe_key=f"{changes.activity_key_prefix(activity.id)}changed:{stamp}:"
            f"{activity.place[:40]}:{person.id}",
        )
        told += queued is not None
    return told


# ---- /activities for workers -----------------------------------------------------------


async def start_manage(actions: Actions, found: list[Activity]) -> None:
    """After the worker's list: offer to change or cancel one of the activities."""
    parts = actions.parts
    language = actions.participant.language or parts.settings.default_language
    choices = [option(a.id, label(parts, a, language)) for a in found]
    await actions.start_flow(MANAGE_FLOW, {"activities": choices})


async def _managed(actions: Actions, value: object) -> Activity | None:
    """The activity a worker may change, checked again on the server; None if not."""
    try:
        allowed = await roles.require_worker(actions, MANAGE_FLOW)
    except roles.Refused:
        return None
    activity = await get_record(actions.session, Activity, value)
    if activity is None or activity.status not in (PLANNED, DRAFT):
        return None
    if not roles.may_act_on(allowed, activity.neighbourhoods):
        log.warning(
            "%s refused: participant %s does not work where activity %s is",
            MANAGE_FLOW,
            actions.participant.id,
            activity.id,
        )
        return None
    return activity


async def manage_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    values = state.values
    what = values.get("what")
    if values.get("activity") in (None, "close") or what in (None, "nothing"):
        return
    t = actions.t
    parts = actions.parts
    activity = await _managed(actions, values.get("activity"))
    if activity is None:
        actions.say(t.gettext("Sorry, you cannot change this activity (any more)."))
        return
    language = actions.participant.language or parts.settings.default_language
    title = title_in(activity, language)
    session = actions.session
    if what == "cancel":
        if not values.get("cancel_sure"):
            actions.say(t.gettext("OK. Nothing was changed."))
            return
        done = await changes.cancel_activity(
            session,
            parts,
            activity,
            actor=audit.Actor.worker(parts.settings, actions.participant, audit.CHAT),
        )
        actions.say(
            bidi.fill(
                t.ngettext(
                    '"{title}" is cancelled. {n} person who said they would come or maybe '
                    "gets a message.",
                    '"{title}" is cancelled. {n} people who said they would come or maybe '
                    "get a message.",
                    done.told,
                ),
                language,
                title=title,
                n=done.told,
            )
        )
        return
    if what == "stop":
        if not values.get("stop_sure"):
            actions.say(t.gettext("OK. Nothing was changed."))
            return
        stopped = await changes.stop_invitations(
            session,
            activity.id,
            audit.Actor.worker(parts.settings, actions.participant, audit.CHAT),
        )
        actions.say(
            t.ngettext(
                "{n} invitation was stopped.", "{n} invitations were stopped.", stopped
            ).format(n=stopped)
        )
        return
    changed: dict[str, Any] = {}
    outdated: list[str] = []
    if what == "time":
        moment = local_moment(str(values["date"]), str(values["time"]), parts.settings.timezone)
        if moment <= utcnow():
            actions.say(t.gettext("That moment has already passed. Type /activities to try again."))
            return
        changed["starts_at"] = moment
    elif what == "place":
        changed["place"] = str(values.get("place") or "")
    elif what == "capacity":
        changed["capacity"] = int(values["capacity"]) if values.get("has_limit") else None
    elif what == "text":
        changed["title"] = worker_text(str(values["new_title"]))
        changed["description"] = worker_text(str(values.get("new_description") or ""))
        outdated = _translated(activity)
    try:
        done = await update_activity(
            session,
            parts,
            activity,
            actor=audit.Actor.worker(parts.settings, actions.participant, audit.CHAT),
            **changed,
        )
    except ValueError:
        actions.say(t.gettext("Sorry, you cannot change this activity (any more)."))
        return
    assert activity.starts_at is not None
    actions.say(
        bidi.fill(
            t.gettext('Saved: "{title}" on {when} (number {id}).'),
            language,
            title=title_in(activity, language),
            when=when(parts, activity.starts_at, language),
            id=activity.id,
        )
    )
    if outdated:
        # The chat takes one text; translations of the old one would now say something
        # else, so they went. The worker hears which, and where to write new ones.
        actions.say(
            t.gettext(
                "The translations of the old text are removed: {languages}. "
                "Until you add new ones on the dashboard (Activities, Change), "
                "everyone gets your text."
            ).format(languages=", ".join(language_name(code) for code in outdated))
        )
    if done.told:
        actions.say(
            t.ngettext(
                "{n} person who said they would come or maybe gets a message about it.",
                "{n} people who said they would come or maybe get a message about it.",
                done.told,
            ).format(n=done.told)
        )


def _translated(activity: Activity) -> list[str]:
    """The languages the activity's title or description has a translation in."""
    codes = {
        code
        for text in (activity.title, activity.description)
        if isinstance(text, dict)
        for code, value in text.items()
        if code != "_" and str(value or "").strip() and value != text.get("_")
    }
    return sorted(codes)


async def worker_activities(actions: Actions) -> list[Activity]:
    """The upcoming activities a worker may change."""
    allowed = await roles.scope(actions.session, actions.participant)
    return await upcoming(
        actions.session, allowed=allowed, statuses=(PLANNED, DRAFT), dated_only=False
    )


def register(extensions: Extensions) -> None:
    extensions.on_finish(MANAGE_FLOW)(manage_finished)
