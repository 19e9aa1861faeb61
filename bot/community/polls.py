"""Polls: a resident flow sent to a chosen group, like an invitation to an activity.

`buurtbot broadcast --flow F` (and later the dashboard) queue one outbox row a person,
of kind `broadcast`, that starts flow F when it is sent, in the person's language at
that moment. The audience is chosen as for invitations (`invitations.select_audience`:
consented, not stopped, reachable, not a worker). Broadcasts count towards the weekly
limit and wait for the end of quiet hours.

Which flows may be sent (`flow_refusal`, the one rule): resident flows that stand on
their own. Not worker flows; not the flows the bot itself runs (onboarding, language,
forget, resume); not flows that need what only the bot fills in when it starts them
(an invitation's `{title}`, a check-in's `{activity_title}`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community.common import log, quiet_hours
from bot.flows.library import REQUIRED, FlowLibrary
from bot.i18n.placeholders import placeholders
from bot.settings import Settings
from bot.storage.models import Participant, utcnow

# What every flow can use without being given it (`FlowContext.values`, the service).
ALWAYS_THERE = frozenset(
    {
        "organisation",
        "town",
        "website",
        "privacy_url",
        "contact",
        "retention_days",
        "retention_period",
        "neighbourhood_update",
    }
)

NO_SUCH_FLOW, WORKER_FLOW, BOT_FLOW, NEEDS = (
    "no such flow",
    "it is a flow for community workers",
    "the bot runs it itself",
    "it needs {names}, which only the bot fills in",
)


def flow_refusal(library: FlowLibrary, flow_id: str) -> str | None:
    """Why flow `flow_id` may not be sent as a poll, or None when it may."""
    flow = library.get(flow_id)
    if flow is None:
        return NO_SUCH_FLOW
    if flow.role != "resident":
        return WORKER_FLOW
    if flow.id in REQUIRED:
        return BOT_FLOW
    known = ALWAYS_THERE | {step.answer_as for step in flow.steps}
    missing = [name for step in flow.steps for name in placeholders(step.text) if name not in known]
    if missing:
        return NEEDS.format(names=", ".join("{" + name + "}" for name in dict.fromkeys(missing)))
    return None


async def queue_poll(
    session: AsyncSession,
    settings: Settings,
    library: FlowLibrary,
    flow_id: str,
    people: Sequence[Participant],
    *,
    due_at: datetime | None = None,
) -> tuple[int, str]:
    """Queue flow `flow_id` for `people`; (how many were queued, the batch id)."""
    refusal = flow_refusal(library, flow_id)
    if refusal is not None:
        raise ValueError(f"flow {flow_id!r} cannot be sent: {refusal}")
    batch_id = uuid.uuid4().hex
    items = [
        outbox.Item(
            participant_id=person.id,
            kind="broadcast",
            content=outbox.flow(flow_id),
            due_at=due_at or utcnow(),
            batch_id=batch_id,
            dedupe_key=f"poll:{batch_id}:{person.id}",
        )
        for person in people
    ]
    queued = await outbox.enqueue_many(session, items, quiet=quiet_hours(settings))
    log.info("flow %s: %d queued as a poll (batch %s)", flow_id, queued, batch_id)
    return queued, batch_id
