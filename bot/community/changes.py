"""What may happen to an activity once it exists: may it be broadcast, changing it,
cancelling it, and stopping invitations that have not gone out yet.

Each rule lives here once; the chat (`/activities`), the command line (`buurtbot
broadcast`, `buurtbot activities cancel`) and the dashboard call these functions.

* **Broadcast**: an activity may be broadcast (invitations queued) when it is planned
  (or a dated draft, which becomes planned), starts in the future, and is not full.
* **Cancel**: the activity is marked cancelled; everyone who said going (waiting list
  included) or maybe is told in their own language through the outbox; the queued
  invitations and reminders for it are cancelled, so nobody is invited to something
  that will not happen.
* **Stop a batch**: invitations still queued (sent later, or waiting for quiet hours)
  are cancelled and their people can be invited again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import audit
from bot.community.common import localised, log, notify, quiet_hours, translator, when
from bot.i18n import bidi
from bot.outbox.quiet_hours import hold
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.community import (
    CANCELLED,
    DRAFT,
    GOING,
    MAYBE,
    PLANNED,
    Activity,
    Invitation,
    Rsvp,
)
from bot.storage.models.outbox import QUEUED

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

# Why an activity may not be broadcast (also the words the command line prints).
NOT_FOUND, IS_CANCELLED, UNDATED, PAST, FULL = (
    "no such activity",
    "it is cancelled",
    "it has no date and time yet",
    "it has already started",
    "it is full",
)


class NotBroadcastable(ValueError):
    """Invitations were asked for an activity that may not be broadcast; says why."""


def invitation_key_prefix(activity_id: int) -> str:
    """The outbox dedupe keys of an activity's invitations start with this."""
    return f"invitation:{activity_id}:"


def activity_key_prefix(activity_id: int) -> str:
    """Other queued messages about an activity (reminders) use keys starting with this."""
    return f"activity:{activity_id}:"


async def placed(session: AsyncSession, activity_id: int) -> int:
    """People with a place (going, not on the waiting list)."""
    rows = await session.execute(
        select(Rsvp.id).where(
            Rsvp.activity_id == activity_id, Rsvp.answer == GOING, Rsvp.waiting.is_(False)
        )
    )
    return len(rows.all())


async def broadcast_refusal(
    session: AsyncSession, activity: Activity | None, now: datetime | None = None
) -> str | None:
    """Why `activity` may not be broadcast, or None when it may (the one rule)."""
    now = now or utcnow()
    if activity is None:
        return NOT_FOUND
    if activity.status == CANCELLED or activity.status not in (PLANNED, DRAFT):
        return IS_CANCELLED
    if activity.starts_at is None:
        return UNDATED
    if activity.starts_at <= now:
        return PAST
    if activity.capacity is not None and await placed(session, activity.id) >= activity.capacity:
        return FULL
    return None


@dataclass
class Cancelled:
    """What cancelling did: how many people are told, how many queued messages stopped."""

    told: int = 0
    stopped: int = 0


async def cancel_activity(
    session: AsyncSession,
    parts: Parts,
    activity: Activity,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Cancelled:
    """Call an activity off: tell who said going or maybe, stop what is queued for it;
    the audit log says who did it.

    The notice goes at once when the activity starts before quiet hours end (or it
    would come too late); otherwise it waits for the morning like other messages.
    """
    now = now or utcnow()
    done = Cancelled()
    if activity.status == CANCELLED:
        return done
    activity.status = CANCELLED
    reason = "the activity was cancelled"
    done.stopped += await outbox.cancel(
        session, reason, dedupe_prefix=invitation_key_prefix(activity.id)
    )
    done.stopped += await outbox.cancel(
        session, reason, dedupe_prefix=activity_key_prefix(activity.id)
    )
    rows = await session.execute(
        select(Participant)
        .join(Rsvp, Rsvp.participant_id == Participant.id)
        .where(Rsvp.activity_id == activity.id, Rsvp.answer.in_((GOING, MAYBE)))
        .order_by(Participant.id)
    )
    quiet = quiet_hours(parts.settings)
    urgent = activity.starts_at is not None and hold(quiet, now, False) >= activity.starts_at
    for person in rows.scalars():
        language = person.language or parts.settings.default_language
        t = translator(parts, person)
        title = _title(activity, language)
        if activity.starts_at is not None:
            text = bidi.fill(
                t.gettext('"{title}" on {when} is cancelled. Sorry! It will not take place.'),
                language,
                title=title,
                when=when(parts, activity.starts_at, language),
            )
        else:
            text = bidi.fill(
                t.gettext('"{title}" is cancelled. Sorry! It will not take place.'),
                language,
                title=title,
            )
        queued = await notify(
            session,
            parts.settings,
            person.id,
            outbox.text(text),
            urgent=urgent,
            dedupe_key=f"cancelled:{activity.id}:{person.id}",
        )
        done.told += queued is not None
    await audit.record(session, actor, audit.ACTIVITY_CANCELLED, audit.activity(activity.id))
    log.info(
        "activity %s cancelled by %s (%s): %d told, %d queued messages stopped",
        activity.id,
        actor.pseudonym,
        actor.via,
        done.told,
        done.stopped,
    )
    return done


def _title(activity: Activity, language: str) -> str:
    return localised(activity.title, language)


async def pending_batches(session: AsyncSession, activity_id: int) -> dict[str, int]:
    """Invitation batches of an activity with messages still queued: {batch id: count}."""
    prefix = invitation_key_prefix(activity_id)
    rows = await session.execute(
        select(OutboxMessage.batch_id, OutboxMessage.id).where(
            OutboxMessage.status == QUEUED,
            OutboxMessage.dedupe_key.startswith(prefix, autoescape=True),
        )
    )
    found: dict[str, int] = {}
    for batch_id, _ in rows.all():
        if batch_id:
            found[batch_id] = found.get(batch_id, 0) + 1
    return found


async def stop_invitations(session: AsyncSession, activity_id: int, actor: audit.Actor) -> int:
    """Stop the activity's invitations that have not gone out; their people can be
    invited again. Recorded in the audit log; how many were stopped."""
    people = await outbox.stop(session, dedupe_prefix=invitation_key_prefix(activity_id))
    if not people:
        return 0
    await session.execute(
        delete(Invitation).where(
            Invitation.activity_id == activity_id, Invitation.participant_id.in_(people)
        )
    )
    await audit.record(
        session,
        actor,
        audit.INVITATION_STOPPED,
        audit.stopped(audit.activity(activity_id), len(people)),
    )
    log.info("activity %s: %d queued invitations stopped", activity_id, len(people))
    return len(people)
