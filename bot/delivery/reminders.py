"""Half-finished conversations: one gentle reminder, then expiry.

A flow says how long a conversation may wait for an answer (`remind_after`, a day by
default; `expires_after`, a week). Two periodic jobs:

* `remind_idle`: an active conversation idle longer than its flow's `remind_after` and
  not reminded yet gets one reminder: a `nudge` row with content
  `{"type": "resume", "conversation_id": ..., "idle_since": ...}`, and `reminded_at`
  is set. The row is not urgent, so quiet hours hold it until morning. When it is sent
  the person reads a short translated sentence and the question they stopped at
  (`render_resume`); if they answered in the meantime, or the conversation ended, the
  row is cancelled instead.
* `expire_idle`: an active or paused conversation idle longer than its flow's
  `expires_after` becomes `expired`. The answers given so far are kept.

Only people who consented, did not stop and can be reached are reminded.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.conversation.turns import Reply
from bot.delivery.clock import SYSTEM, Clock
from bot.delivery.parts import DeliveryParts
from bot.flows.events import Say
from bot.flows.model import Flow
from bot.i18n.translator import Translator
from bot.outbox.quiet_hours import QuietHours
from bot.storage import polls as stored_flows
from bot.storage.models import Conversation, Participant

log = logging.getLogger(__name__)

ACTIVE, PAUSED, EXPIRED = "active", "paused", "expired"
DEFAULT_WAIT = Flow.model_fields["expires_after"].default


def reminder_key(conversation_id: int) -> str:
    return f"remind:{conversation_id}"


def reminder_text(t: Translator) -> str:
    return t.gettext(
        "You did not finish our questions. You can go on by answering the question below."
    )


async def remind_idle(app: DeliveryParts, clock: Clock = SYSTEM) -> int:
    """Queue one reminder for each conversation idle past its flow's `remind_after`."""
    flows = app.library.flows
    if not flows:
        return 0
    now = clock.now()
    shortest = min(flow.remind_after for flow in flows.values())
    quiet = QuietHours.from_settings(app.settings)
    queued = 0
    async with app.database.transaction() as session:
        rows = await session.execute(
            select(Conversation, Participant.channel)
            .join(Participant, Participant.id == Conversation.participant_id)
            .where(
                Conversation.status == ACTIVE,
                Conversation.reminded_at.is_(None),
                Conversation.updated_at <= now - shortest,
                Participant.consented_at.is_not(None),
                Participant.opted_out_at.is_(None),
                Participant.unreachable_at.is_(None),
            )
            .order_by(Conversation.updated_at)
            .limit(5000)
        )
        for conversation, channel in rows.all():
            flow = await stored_flows.find(session, app.library, conversation.flow_id)
            if flow is None:
                continue
            idle = now - conversation.updated_at
            if idle < flow.remind_after or idle >= flow.expires_after:
                continue
            await outbox.enqueue(
                session,
                conversation.participant_id,
                "nudge",
                {
                    "type": "resume",
                    "conversation_id": conversation.id,
                    "idle_since": conversation.updated_at.isoformat(),
                },
                dedupe_key=reminder_key(conversation.id),
                channel=channel,
                quiet=quiet,
                now=now,
            )
            conversation.reminded_at = now
            queued += 1
    if queued:
        log.info("queued %d reminders for half-finished conversations", queued)
    return queued


async def expire_idle(app: DeliveryParts, clock: Clock = SYSTEM) -> int:
    """Mark conversations idle past their flow's `expires_after` as expired."""
    flows = app.library.flows
    now = clock.now()
    shortest = min([flow.expires_after for flow in flows.values()] or [DEFAULT_WAIT])
    expired: list[int] = []
    async with app.database.transaction() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.flow_id, Conversation.updated_at).where(
                Conversation.status.in_((ACTIVE, PAUSED)),
                Conversation.updated_at <= now - shortest,
            )
        )
        for conversation_id, flow_id, updated_at in rows.all():
            flow = await stored_flows.find(session, app.library, flow_id)
            wait = flow.expires_after if flow is not None else DEFAULT_WAIT
            if now - updated_at >= wait:
                expired.append(conversation_id)
        await _expire(session, expired, now)
    if expired:
        log.info("%d half-finished conversations expired", len(expired))
    return len(expired)


async def _expire(session: AsyncSession, ids: list[int], now: datetime) -> None:
    for start in range(0, len(ids), 500):
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids[start : start + 500]))
            .where(Conversation.status.in_((ACTIVE, PAUSED)))
            .values(status=EXPIRED, updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def render_resume(
    app: DeliveryParts, conversation_id: int, idle_since: str | None
) -> tuple[Reply | None, str]:
    """The reminder and the current question, or None and why it is no longer wanted."""
    async with app.database.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.status != ACTIVE:
            return None, "the conversation is no longer waiting for an answer"
        if idle_since and conversation.updated_at.isoformat() != idle_since:
            return None, "the person went on with the conversation"
    reply = await app.service.reply_for(conversation_id)
    if not reply.messages:
        return None, "the conversation has no question to repeat"
    reply.messages.insert(0, Say(reminder_text(app.parts.translator(reply.language))))
    return reply, ""
