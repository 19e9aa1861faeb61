"""Sending an invitation or a poll to a group: the one place that decides whether it may
go, to whom, and when; queues it; records it; and stops a batch before it goes.

The chat (`/invite`), the command line (`buurtbot broadcast`) and the dashboard's
composer all call `plan` (what would happen: the reach per language, when it goes, or
why not) and `send` (the same checks again, then queue and record). A batch that has
not gone out yet is stopped with `stop_batch`.

The rules, in order:

* **What**: exactly one of an activity (`changes.broadcast_refusal`: planned, in the
  future, not full) or a flow (`polls.flow_refusal`: a resident flow that stands on
  its own).
* **Where**: a worker sends only within their neighbourhoods (an activity of theirs,
  `roles.may_act_on`; an audience in their neighbourhoods, `roles.covers`); a worker
  who names none sends to all of theirs. Anything else is `roles.Refused`, which the
  dashboard answers with 403 and the chat with "you cannot".
* **When**: now, or a moment that has not passed and, for an invitation, is before
  the activity starts. A message due in quiet hours waits for their end (`goes_at`).
* **Who**: `invitations.select_audience` (consented, not stopped, reachable, not a
  worker; for an invitation not invited before). Nobody is refused: nothing is queued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import audit, changes, polls, roles
from bot.community.activities import upcoming
from bot.community.common import get_record, log, quiet_hours
from bot.community.invitations import (
    Audience,
    count_audience,
    preview_messages,
    queue_invitations,
    select_audience,
)
from bot.flows import engine
from bot.flows.events import Outgoing
from bot.i18n.translator import Translator
from bot.outbox.quiet_hours import hold
from bot.outbox.status import Progress, broadcast_progress
from bot.reports.protection import Cell, Sum, suppress
from bot.storage.models import OutboxMessage, Participant, utcnow
from bot.storage.models.community import DRAFT, PLANNED, Activity, Invitation
from bot.storage.models.outbox import QUEUED

if TYPE_CHECKING:
    from bot.conversation.parts import Parts
    from bot.flows.library import FlowLibrary

# The fields a refusal belongs to (the dashboard puts it beside that field).
WHAT, AT, AUDIENCE = "what", "at", "audience"
# Outbox kinds of the two things sent.
INVITATION_KIND, POLL_KIND = "invitation", "broadcast"
KINDS = (INVITATION_KIND, POLL_KIND)
# The flow whose steps ask the profile an audience is narrowed by.
ONBOARDING = "onboarding"

NOTHING, BOTH, PAST_TIME, AFTER_START, NOBODY = (
    "nothing to send was chosen",
    "choose an activity or a flow, not both",
    "that time has passed",
    "that time is after the activity starts",
    "nobody matches (or everyone was already invited)",
)


@dataclass(frozen=True)
class Request:
    """What to send (an activity or a flow), to whom, and when (None: now)."""

    activity_id: int | None = None
    flow_id: str | None = None
    audience: Audience = field(default_factory=Audience)
    at: datetime | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a request may not go: the field it is about and the reason (English, as the
    command line prints it); `text` says it in a worker's language."""

    field: str
    reason: str

    def text(self, t: Translator) -> str:
        return _reason_text(t, self.reason)


def _reason_text(t: Translator, reason: str) -> str:
    texts = {
        NOTHING: t.gettext("Choose an activity or a conversation to send."),
        BOTH: t.gettext("Choose an activity or a conversation, not both."),
        PAST_TIME: t.gettext("This time has passed. Choose a time later than now."),
        AFTER_START: t.gettext("The activity has started by then. Choose an earlier time."),
        NOBODY: t.gettext(
            "Nobody matches these choices (or everyone was already invited). "
            "Choose fewer limits or other neighbourhoods."
        ),
        changes.NOT_FOUND: t.gettext("This activity does not exist."),
        changes.IS_CANCELLED: t.gettext("This activity is cancelled."),
        changes.UNDATED: t.gettext("This activity has no date and time yet."),
        changes.PAST: t.gettext("This activity has already started."),
        changes.FULL: t.gettext("This activity is full."),
        polls.NO_SUCH_FLOW: t.gettext("This conversation does not exist."),
        polls.WORKER_FLOW: t.gettext("This conversation is for community workers."),
        polls.BOT_FLOW: t.gettext("The bot starts this conversation itself."),
    }
    found = texts.get(reason)
    if found is not None:
        return found
    # polls.NEEDS: names only the bot fills in.
    return t.gettext("This conversation cannot be sent on its own.")


@dataclass(frozen=True)
class Reach:
    """How many people a plan reaches, as its sender may see it: in all, and in each
    language (the shown ones most first, then the hidden ones)."""

    total: Cell
    languages: tuple[tuple[str, Cell], ...]


@dataclass
class Plan:
    """What sending `request` would do: who gets it (in which languages), when it goes
    out, or the refusals (then nothing may be queued)."""

    request: Request
    audience: Audience
    scope: frozenset[str] | None = None  # the sender's neighbourhoods; None: the town
    activity: Activity | None = None
    per_language: Counter[str] = field(default_factory=Counter)
    due_at: datetime | None = None
    goes_at: datetime | None = None
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def reach(self) -> int:
        """How many people it reaches (`invitations.count_audience`: the people `send`
        queues, counted without loading them)."""
        return sum(self.per_language.values())

    @property
    def shown(self) -> Reach:
        """The reach as its sender sees it before sending anything.

        A coordinator (the whole town) sees every number. A worker sees 1 to 4 people
        as "fewer than 5", and no language's number that the others and the total would
        give away (`reports.protection`, as in a report). Else narrowing the audience to
        one age group, language and interest would tell a worker, without sending a
        message, what a neighbour they know chose.
        """
        languages = sorted(self.per_language.items(), key=lambda item: (-item[1], item[0]))
        if self.scope is None:
            return Reach(Cell(self.reach), tuple((code, Cell(n)) for code, n in languages))
        grid = [[self.reach, *(n for _code, n in languages)]]
        parts = tuple((0, j) for j in range(1, len(grid[0])))
        row = suppress(grid, [Sum((0, 0), parts)] if parts else [])[0]
        cells = [(code, row[j]) for j, (code, _n) in enumerate(languages, start=1)]
        # Hidden ones by name, not by size: their order would tell their sizes apart.
        cells.sort(key=lambda item: (not item[1].shown, item[0] if not item[1].shown else ""))
        return Reach(row[0], tuple(cells))

    def refusal(self, name: str) -> Refusal | None:
        return next((r for r in self.refusals if r.field == name), None)


@dataclass(frozen=True)
class Sent:
    """What `send` queued: how many messages, in which batch, when they go."""

    queued: int
    batch_id: str
    goes_at: datetime


def narrowed(audience: Audience, allowed: frozenset[str] | None) -> Audience:
    """The audience within a worker's scope: all their neighbourhoods when none is named;
    Refused when one outside it is named."""
    if allowed is None:
        return audience
    if not audience.neighbourhoods:
        return Audience.of(
            sorted(allowed),
            audience.age_groups,
            audience.interests,
            audience.languages,
            audience.past_participants,
        )
    if not roles.covers(allowed, audience.neighbourhoods):
        raise roles.Refused("an audience outside the worker's neighbourhoods")
    return audience


async def plan(
    session: AsyncSession,
    parts: Parts,
    request: Request,
    *,
    allowed: frozenset[str] | None,
    now: datetime | None = None,
) -> Plan:
    """Check `request` for a sender with scope `allowed` (None: the whole town) and find
    who it reaches. Raises `roles.Refused` for anything outside the sender's scope."""
    now = now or utcnow()
    audience = narrowed(request.audience, allowed)
    found = Plan(request, audience, scope=allowed)
    activity: Activity | None = None
    if request.activity_id is None and not request.flow_id:
        found.refusals.append(Refusal(WHAT, NOTHING))
    elif request.activity_id is not None and request.flow_id:
        found.refusals.append(Refusal(WHAT, BOTH))
    elif request.activity_id is not None:
        activity = await get_record(session, Activity, request.activity_id)
        if activity is not None and not roles.may_act_on(allowed, activity.neighbourhoods):
            raise roles.Refused("an activity outside the worker's neighbourhoods")
        refusal = await changes.broadcast_refusal(session, activity, now)
        if refusal is not None:
            found.refusals.append(Refusal(WHAT, refusal))
        found.activity = activity
    else:
        assert request.flow_id is not None
        refusal = await polls.poll_flow_refusal(session, parts.library, request.flow_id)
        if refusal is not None:
            found.refusals.append(Refusal(WHAT, refusal))
    due = request.at or now
    if request.at is not None and request.at < now:
        found.refusals.append(Refusal(AT, PAST_TIME))
    elif (
        activity is not None
        and activity.starts_at is not None
        and request.at is not None
        and request.at >= activity.starts_at
    ):
        found.refusals.append(Refusal(AT, AFTER_START))
    found.due_at = due
    found.goes_at = hold(quiet_hours(parts.settings), due, urgent=False)
    found.per_language = await count_audience(
        session,
        audience,
        parts.settings.default_language,
        activity_id=activity.id if activity is not None else None,
        now=now,
    )
    if not found.reach and not found.refusal(WHAT):
        found.refusals.append(Refusal(AUDIENCE, NOBODY))
    return found


async def send(
    session: AsyncSession,
    parts: Parts,
    request: Request,
    actor: audit.Actor,
    *,
    allowed: frozenset[str] | None,
    now: datetime | None = None,
) -> tuple[Plan, Sent | None]:
    """Check again and queue: the plan, and what was sent (None when refused). Records
    INVITATION_SENT or POLL_SENT in the same transaction."""
    found = await plan(session, parts, request, allowed=allowed, now=now)
    if not found.ok:
        return found, None
    assert found.due_at is not None and found.goes_at is not None
    due = request.at  # None: as soon as may be
    people = await select_audience(
        session,
        found.audience,
        activity_id=found.activity.id if found.activity is not None else None,
        now=now,
    )
    if found.activity is not None:
        queued, batch_id = await queue_invitations(
            session,
            parts,
            found.activity,
            people,
            due_at=due,
            invited_by=actor.participant_id,
        )
        subject = audit.activity(found.activity.id)
        action = audit.INVITATION_SENT
    else:
        assert request.flow_id is not None
        queued, batch_id = await polls.queue_poll(
            session, parts.settings, parts.library, request.flow_id, people, due_at=due
        )
        subject = audit.flow(request.flow_id)
        action = audit.POLL_SENT
    await audit.record(
        session, actor, action, audit.sent(subject, queued, batch_id, found.audience.neighbourhoods)
    )
    return found, Sent(queued, batch_id, found.goes_at)


def preview(
    parts: Parts, request: Request, activity: Activity | None, language: str
) -> list[Outgoing]:
    """The first messages a person with `language` gets, as the engine makes them when the
    outbox starts the flow (each channel then shows them its way); none for a flow that
    may not be sent."""
    if activity is not None:
        return preview_messages(parts, activity, language)
    if not request.flow_id or polls.flow_refusal(parts.library, request.flow_id) is not None:
        return []
    ctx = parts.context(Participant(language=language))
    turn, _ = engine.start(parts.library[request.flow_id], ctx, {})
    return list(turn.messages)


async def activities_to_invite_to(
    session: AsyncSession, allowed: frozenset[str] | None
) -> list[Activity]:
    """Upcoming activities a sender with scope `allowed` may invite people to now."""
    found = []
    for activity in await upcoming(session, allowed=allowed, statuses=(PLANNED, DRAFT)):
        if not roles.may_act_on(allowed, activity.neighbourhoods):
            continue
        if await changes.broadcast_refusal(session, activity) is None:
            found.append(activity)
    return found


async def sendable_flows(
    session: AsyncSession, library: FlowLibrary, allowed: frozenset[str] | None
) -> list[str]:
    """Every flow that may be sent as a poll, by id: the conversations, then the polls
    written in the dashboard for a sender with scope `allowed` (newest first)."""
    written = [flow.id for flow in await polls.poll_flows_for(session, library, allowed)]
    conversations = sorted(
        fid
        for fid, flow in library.flows.items()
        if not flow.written and polls.flow_refusal(library, fid) is None
    )
    return conversations + written


def profile_values(library: FlowLibrary, store_as: str) -> list[str]:
    """The values residents can give for a profile field (`age_group`, `interests`), from
    the onboarding step that asks it: what an audience may be narrowed by."""
    flow = library.get(ONBOARDING)
    for step in flow.steps if flow is not None else []:
        if getattr(step, "store_as", None) == store_as:
            return [str(option.value) for option in getattr(step, "options_", [])]
    return []


# ---- batches: progress and stopping ---------------------------------------------------


@dataclass
class Batch:
    """One invitation or poll round as sent: what, when, and how far it is."""

    batch_id: str
    kind: str
    created_at: datetime
    progress: Progress
    activity_id: int | None = None
    flow_id: str | None = None
    neighbourhoods: tuple[str, ...] = ()

    @property
    def stoppable(self) -> bool:
        return self.progress.counts.get(QUEUED, 0) > 0


async def _neighbourhoods_of(session: AsyncSession, batch_id: str) -> set[str | None]:
    rows = await session.execute(
        select(Participant.neighbourhood)
        .join(OutboxMessage, OutboxMessage.participant_id == Participant.id)
        .where(OutboxMessage.batch_id == batch_id)
        .distinct()
    )
    return set(rows.scalars())


def _in_scope(allowed: frozenset[str] | None, places: Iterable[str | None]) -> bool:
    return allowed is None or all(place in allowed for place in places)


async def _described(
    session: AsyncSession,
    batch_id: str,
    kind: str,
    created_at: datetime,
    first_id: int,
    places: set[str | None],
) -> Batch:
    first = await session.get(OutboxMessage, first_id)
    content = first.content if first is not None else {}
    variables = content.get("variables") or {}
    return Batch(
        batch_id=batch_id,
        kind=kind,
        created_at=created_at,
        progress=await broadcast_progress(session, batch_id),
        activity_id=variables.get("activity_id") if kind == INVITATION_KIND else None,
        flow_id=str(content.get("flow")) if kind == POLL_KIND else None,
        neighbourhoods=tuple(sorted(p for p in places if p)),
    )


def _summary():
    return select(
        OutboxMessage.batch_id,
        func.min(OutboxMessage.kind),
        func.min(OutboxMessage.created_at),
        func.min(OutboxMessage.id),
    ).where(OutboxMessage.batch_id.is_not(None), OutboxMessage.kind.in_(KINDS))


async def batches(
    session: AsyncSession, allowed: frozenset[str] | None, limit: int = 20
) -> list[Batch]:
    """The latest invitation and poll batches a sender with scope `allowed` may see
    (everyone they went to lives in the sender's neighbourhoods), newest first."""
    rows = await session.execute(
        _summary()
        .group_by(OutboxMessage.batch_id)
        .order_by(func.min(OutboxMessage.created_at).desc(), func.min(OutboxMessage.id).desc())
        .limit(limit * 5 if allowed is not None else limit)
    )
    found: list[Batch] = []
    for batch_id, kind, created_at, first_id in rows.all():
        places = await _neighbourhoods_of(session, batch_id)
        if _in_scope(allowed, places):
            found.append(await _described(session, batch_id, kind, created_at, first_id, places))
        if len(found) >= limit:
            break
    return found


async def batch(
    session: AsyncSession, batch_id: str, allowed: frozenset[str] | None
) -> Batch | None:
    """One batch, if it exists; Refused when it reached people outside `allowed`."""
    rows = await session.execute(
        _summary().where(OutboxMessage.batch_id == batch_id).group_by(OutboxMessage.batch_id)
    )
    row = rows.first()
    if row is None:
        return None
    places = await _neighbourhoods_of(session, batch_id)
    if not _in_scope(allowed, places):
        raise roles.Refused("a batch that reached people outside the worker's neighbourhoods")
    _, kind, created_at, first_id = row
    return await _described(session, batch_id, kind, created_at, first_id, places)


async def stop_batch(
    session: AsyncSession,
    batch_id: str,
    actor: audit.Actor,
    *,
    allowed: frozenset[str] | None,
) -> int:
    """Stop what of a batch has not gone out yet; how many messages were stopped.

    The people of a stopped invitation can be invited again. Records INVITATION_STOPPED
    (or POLL_STOPPED) when anything was stopped. Refused for a batch that reached people
    outside the sender's neighbourhoods.
    """
    found = await batch(session, batch_id, allowed)
    if found is None:
        return 0
    people = await outbox.stop(session, batch_id=batch_id)
    if not people:
        return 0
    if found.kind == INVITATION_KIND:
        await session.execute(
            delete(Invitation).where(
                Invitation.batch_id == batch_id, Invitation.participant_id.in_(people)
            )
        )
    action = audit.INVITATION_STOPPED if found.kind == INVITATION_KIND else audit.POLL_STOPPED
    await audit.record(session, actor, action, audit.stopped(audit.batch(batch_id), len(people)))
    log.info("batch %s: %d queued messages stopped", batch_id, len(people))
    return len(people)
