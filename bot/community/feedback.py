"""Feedback after an activity, and what a resident's "yes, I want to join" does.

The day after an activity, from 10:00 in the deployment's time zone, everyone who said
they would come (`going`, with a place, not changed since) gets the `feedback` flow
through the outbox: quiet hours hold it and it counts towards the weekly limit like an
invitation. A cancelled activity gets none. The scheduler's `activity-feedback` job
queues them; a dedupe key per activity and person makes a second run a no-op. Only the
day after: a question about "yesterday" a week late is no use, so a bot that was down
that whole day sends none.

Its answers are stored like any resident flow's, so reports show the scores.

A "yes" to "Do you want to join an activity?" (the check-in) or to "Would you like to
help next time?" (feedback) makes the person count as interested in every activity of
their neighbourhood: an invitation for some interests reaches them too
(`invitations.select_audience`), and /mydata shows it. A "no" changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import outbox
from bot.community.activities import title_in
from bot.community.common import log, notify
from bot.conversation.extensions import Actions, Extensions
from bot.flows.state import State
from bot.storage.models import Conversation
from bot.storage.models.community import GOING, PLANNED, Activity, Rsvp

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

FEEDBACK_FLOW = "feedback"
CHECKIN_FLOW = "checkin"
FEEDBACK_FROM = time(10, 0)  # local time, the day after the activity
FEEDBACK_EVERY = timedelta(minutes=15)


def feedback_key(activity_id: int, participant_id: int) -> str:
    return f"feedback:{activity_id}:{participant_id}"


def _yesterday(now: datetime, timezone: str) -> tuple[datetime, datetime] | None:
    """Yesterday's start and end (UTC) if it is past 10:00 today, local time; else None."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    if local_now.time() < FEEDBACK_FROM:
        return None
    today = datetime.combine(local_now.date(), time(0), tzinfo=zone)
    yesterday = datetime.combine(local_now.date() - timedelta(days=1), time(0), tzinfo=zone)
    return yesterday.astimezone(UTC), today.astimezone(UTC)


async def queue_feedback(parts: Parts, now: datetime) -> int:
    """Queue the feedback flow for yesterday's activities; how many were queued."""
    window = _yesterday(now, parts.settings.timezone)
    if window is None:
        return 0
    languages = list(
        dict.fromkeys([parts.settings.default_language, *parts.settings.language_list])
    )
    queued = 0
    async with parts.db.transaction() as session:
        rows = await session.execute(
            select(Activity, Rsvp.participant_id)
            .join(Rsvp, Rsvp.activity_id == Activity.id)
            .where(
                Activity.status == PLANNED,
                Activity.starts_at >= window[0],
                Activity.starts_at < window[1],
                Rsvp.answer == GOING,
                Rsvp.waiting.is_(False),
            )
            .order_by(Activity.id, Rsvp.participant_id)
        )
        for activity, participant_id in rows:
            title = {code: title_in(activity, code) for code in languages}
            title["_"] = title[parts.settings.default_language]
            found = await notify(
                session,
                parts.settings,
                participant_id,
                outbox.flow(FEEDBACK_FLOW, {"activity_id": activity.id, "activity_title": title}),
                kind="feedback",
                due_at=now,
                dedupe_key=feedback_key(activity.id, participant_id),
            )
            queued += found is not None
    if queued:
        log.info("feedback queued for %d people after yesterday's activities", queued)
    return queued


async def wants_to_join(actions: Actions, conversation: Conversation, state: State) -> None:
    """A "yes" to joining (check-in) or helping (feedback) counts; a "no" changes nothing."""
    participant = actions.participant
    if participant.consented_at is None:
        return
    if state.values.get("join") is True or state.values.get("help_next") is True:
        participant.wants_activities = True


def register(extensions: Extensions) -> None:
    extensions.on_finish(CHECKIN_FLOW)(wants_to_join)
    extensions.on_finish(FEEDBACK_FLOW)(wants_to_join)
    extensions.every("activity-feedback", FEEDBACK_EVERY)(queue_feedback)
