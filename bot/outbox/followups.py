"""Follow-ups declared by flows: `followups: [{after: 14d, flow: checkin}]`.

When a flow ends, the conversation service calls `schedule_followups` in the same
transaction that stores the end, so a follow-up exists exactly when the flow was
finished. Each becomes a flow-type outbox row due `after` the end; its dedupe key
(`followup:<conversation>:<flow>`) makes a second call for the same conversation a
no-op. The dispatcher starts the flow at send time, in the person's language then, and
holds it through quiet hours like any non-urgent message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.flows.model import Flow


def followup_key(conversation_id: int, flow_id: str) -> str:
    return f"followup:{conversation_id}:{flow_id}"


async def schedule_followups(
    session: AsyncSession,
    participant_id: int,
    flow: Flow,
    conversation_id: int,
    finished_at: datetime,
    variables: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> list[int]:
    """Queue each follow-up of `flow` at `finished_at + after`; the ids of new rows.

    A follow-up with a `when` is queued only if the person's answers (`values`) say
    they want it: a "no" to hearing back means no check-in.
    """
    queued: list[int] = []
    for followup in flow.followups:
        if not followup.wanted(values or {}):
            continue
        row = await outbox.enqueue(
            session,
            participant_id,
            "followup",
            outbox.flow(followup.flow, variables),
            due_at=finished_at + followup.after,
            dedupe_key=followup_key(conversation_id, followup.flow),
            now=finished_at,
        )
        if row is not None:
            queued.append(row)
    return queued
