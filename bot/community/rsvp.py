"""RSVPs: going, maybe or can't; a changed answer replaces the earlier one.

When an activity has a capacity, a person who says "going" once it is full goes on the
waiting list, in order. When someone with a place changes their answer, the first one
waiting gets the place and is told, in their language, through the outbox. The
activity row is locked while places are counted (PostgreSQL), so two people cannot
take the last place at once; SQLite runs one writer at a time anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community.activities import RSVP_FLOW, title_in
from bot.community.common import get_record, log, notify, translator, when
from bot.conversation.extensions import Actions, Extensions
from bot.flows.state import State
from bot.i18n import bidi
from bot.storage.models import Conversation, Participant, utcnow
from bot.storage.models.community import (
    GOING,
    MAYBE,
    NOT_GOING,
    PLANNED,
    Activity,
    Invitation,
    Rsvp,
)

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

ANSWERS = (GOING, MAYBE, NOT_GOING)


@dataclass
class Outcome:
    """What an answer did: `waiting` when on the waiting list; `promoted` are the people
    who got a place because of it."""

    answer: str
    waiting: bool = False
    changed: bool = True
    promoted: list[int] = field(default_factory=list)


async def _placed(session: AsyncSession, activity_id: int, besides: int | None = None) -> int:
    """How many people have a place, not counting participant `besides`."""
    conditions = [Rsvp.activity_id == activity_id, Rsvp.answer == GOING, Rsvp.waiting.is_(False)]
    if besides is not None:
        conditions.append(Rsvp.participant_id != besides)
    return (await session.execute(select(func.count()).where(*conditions))).scalar_one()


async def respond(
    session: AsyncSession,
    parts: Parts,
    activity: Activity,
    participant: Participant,
    answer: str,
    now: datetime | None = None,
) -> Outcome:
    """Record `participant`'s answer for `activity`, with waiting list and promotion."""
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r}")
    now = now or utcnow()
    # Lock the activity while places are counted (a no-op on SQLite).
    await session.execute(select(Activity.id).where(Activity.id == activity.id).with_for_update())
    rsvp = (
        await session.execute(
            select(Rsvp).where(
                Rsvp.activity_id == activity.id, Rsvp.participant_id == participant.id
            )
        )
    ).scalar_one_or_none()
    had_place = rsvp is not None and rsvp.answer == GOING and not rsvp.waiting
    if rsvp is not None and rsvp.answer == answer:
        return Outcome(answer, waiting=rsvp.waiting, changed=False)
    if rsvp is None:
        rsvp = Rsvp(activity_id=activity.id, participant_id=participant.id, created_at=now)
        session.add(rsvp)
    rsvp.answer = answer
    rsvp.updated_at = now
    if answer == GOING:
        placed = await _placed(session, activity.id, besides=participant.id)
        full = activity.capacity is not None and placed >= activity.capacity
        rsvp.waiting = full
        rsvp.waiting_since = now if full else None
    else:
        rsvp.waiting = False
        rsvp.waiting_since = None
    await session.flush()
    outcome = Outcome(answer, waiting=rsvp.waiting)
    if had_place and answer != GOING:
        outcome.promoted = await promote(session, parts, activity, now)
    log.info(
        "activity %s: participant %s answered %s%s",
        activity.id,
        participant.id,
        answer,
        " (waiting list)" if rsvp.waiting else "",
    )
    return outcome


async def promote(
    session: AsyncSession, parts: Parts, activity: Activity, now: datetime
) -> list[int]:
    """Give free places to the first people on the waiting list, and tell them."""
    promoted: list[int] = []
    while True:
        if activity.capacity is not None and await _placed(session, activity.id) >= (
            activity.capacity
        ):
            break
        first = (
            await session.execute(
                select(Rsvp)
                .where(Rsvp.activity_id == activity.id, Rsvp.answer == GOING, Rsvp.waiting)
                .order_by(Rsvp.waiting_since, Rsvp.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        if first is None:
            break
        first.waiting = False
        first.waiting_since = None
        first.updated_at = now
        await session.flush()
        promoted.append(first.participant_id)
        person = await session.get(Participant, first.participant_id)
        if person is not None:
            await _tell_promoted(session, parts, activity, person)
        log.info("activity %s: participant %s got a place", activity.id, first.participant_id)
    return promoted


async def _tell_promoted(
    session: AsyncSession, parts: Parts, activity: Activity, person: Participant
) -> None:
    language = person.language or parts.settings.default_language
    t = translator(parts, person)
    assert activity.starts_at is not None
    message = bidi.fill(
        t.gettext(
            'Good news! A place came free for "{title}" on {when}. '
            "You are on the list now. See you there!"
        ),
        language,
        title=title_in(activity, language),
        when=when(parts, activity.starts_at, language),
    )
    await notify(session, parts.settings, person.id, outbox.text(message))


async def may_answer(session: AsyncSession, activity: Activity, participant: Participant) -> bool:
    """Whether a resident may answer for an activity: they were invited, it is for their
    neighbourhood or the whole town, or they answered before."""
    if not activity.neighbourhoods or participant.neighbourhood in activity.neighbourhoods:
        return True
    invited = await session.execute(
        select(Invitation.id).where(
            Invitation.activity_id == activity.id, Invitation.participant_id == participant.id
        )
    )
    if invited.first() is not None:
        return True
    answered = await session.execute(
        select(Rsvp.id).where(
            Rsvp.activity_id == activity.id, Rsvp.participant_id == participant.id
        )
    )
    return answered.first() is not None


async def answer_for(actions: Actions, activity_id: object, answer: str) -> None:
    """Record an answer from a flow and tell the person what it means."""
    t = actions.t
    session = actions.session
    participant = actions.participant
    activity = await get_record(session, Activity, activity_id)
    if (
        activity is None
        or activity.status != PLANNED
        or (activity.starts_at is None or activity.starts_at < utcnow())
    ):
        actions.say(t.gettext("Sorry, this activity is no longer open."))
        return
    if not await may_answer(session, activity, participant):
        log.warning(
            "rsvp refused: participant %s was not invited to activity %s",
            participant.id,
            activity.id,
        )
        actions.say(t.gettext("Sorry, this activity is no longer open."))
        return
    outcome = await respond(session, actions.parts, activity, participant, answer)
    language = participant.language or actions.parts.settings.default_language
    title = title_in(activity, language)
    if outcome.answer == GOING and outcome.waiting:
        actions.say(
            t.gettext(
                "The activity is full. You are on the waiting list. "
                "We will tell you when a place comes free."
            )
        )
    elif outcome.answer == GOING:
        actions.say(
            bidi.fill(
                t.gettext('Great! See you at "{title}" on {when}.'),
                language,
                title=title,
                when=when(actions.parts, activity.starts_at, language),
            )
        )
    elif outcome.answer == MAYBE:
        actions.say(t.gettext("OK, maybe. Type /activities to change your answer."))
    else:
        actions.say(
            t.gettext("Thank you for letting us know. Type /activities to change your answer.")
        )


async def invitation_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    await answer_for(actions, state.variables.get("activity_id"), str(state.values.get("answer")))


async def rsvp_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    chosen = state.values.get("activity")
    if chosen in (None, "close"):
        return
    await answer_for(actions, chosen, str(state.values.get("answer")))


async def release_places(session: AsyncSession, parts: Parts, participant_id: int) -> None:
    """Someone is erased: their places go to the first people waiting, who are told."""
    held = (
        (
            await session.execute(
                select(Rsvp).where(
                    Rsvp.participant_id == participant_id, Rsvp.answer == GOING, ~Rsvp.waiting
                )
            )
        )
        .scalars()
        .all()
    )
    activities = [rsvp.activity_id for rsvp in held]
    for rsvp in held:
        await session.delete(rsvp)
    await session.flush()
    for activity_id in activities:
        activity = await session.get(Activity, activity_id)
        if activity is not None:
            await promote(session, parts, activity, utcnow())


def register(extensions: Extensions) -> None:
    extensions.before_erase(release_places)
    extensions.on_finish("invitation")(invitation_finished)
    extensions.on_finish(RSVP_FLOW)(rsvp_finished)
