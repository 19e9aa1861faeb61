"""Reading and writing conversations and their answers."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.events import Answer as EngineAnswer
from bot.flows.state import State
from bot.storage import answer_order
from bot.storage.db import dialect_of, insert_for
from bot.storage.models import Answer, Conversation, utcnow

ACTIVE, PAUSED, FINISHED, EXPIRED, ABANDONED = (
    "active",
    "paused",
    "finished",
    "expired",
    "abandoned",
)


_ACTIVE = (
    select(Conversation)
    .where(Conversation.participant_id == bindparam("participant"), Conversation.status == ACTIVE)
    .order_by(Conversation.id.desc())
    .limit(1)
)


async def active(session: AsyncSession, participant_id: int) -> Conversation | None:
    """The person's active conversation (at most one is active at a time)."""
    result = await session.execute(_ACTIVE, {"participant": participant_id})
    return result.scalar_one_or_none()


def active_in(session: AsyncSession, participant_id: int) -> Conversation | None:
    """The person's active conversation as this session has left it, without a query.

    Right only in a session that loaded the active conversation (`active`, or
    `participants.arrive`) before it changed any: from then on, every conversation whose
    status changes passes through this session, so the active one is among its objects.
    A turn of the conversation service works that way and asks this several times.
    """
    found = [
        item
        for item in (*session.identity_map.values(), *session.new)
        if isinstance(item, Conversation)
        and item.participant_id == participant_id
        and item.status == ACTIVE
        and item not in session.deleted
    ]
    return max(found, key=lambda item: item.id or 0, default=None)


async def latest_paused(session: AsyncSession, participant_id: int) -> Conversation | None:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.participant_id == participant_id, Conversation.status == PAUSED)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def latest_unfinished(session: AsyncSession, participant_id: int) -> Conversation | None:
    """The most recent paused or expired conversation, to pick up again."""
    result = await session.execute(
        select(Conversation)
        .where(
            Conversation.participant_id == participant_id,
            Conversation.status.in_([PAUSED, EXPIRED]),
        )
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def begin(session: AsyncSession, participant_id: int, state: State) -> Conversation:
    conversation = Conversation(
        participant_id=participant_id,
        flow_id=state.flow,
        flow_version=state.version,
        status=ACTIVE,
        state=state.to_json(),
    )
    session.add(conversation)
    await session.flush()
    return conversation


def save_state(conversation: Conversation, state: State) -> None:
    conversation.state = state.to_json()
    conversation.updated_at = utcnow()
    if state.finished:
        conversation.status = FINISHED
        conversation.finished_at = utcnow()


def set_status(conversation: Conversation, status: str) -> None:
    conversation.status = status
    conversation.updated_at = utcnow()


async def store_answers(
    session: AsyncSession,
    conversation: Conversation,
    answers: list[EngineAnswer],
    language: str | None,
    neighbourhood: str | None,
) -> None:
    """Store answers once per step: a step answered again replaces its earlier answer."""
    if not answers:
        return
    now = utcnow()
    # One row a step: the last answer wins (PostgreSQL refuses to update a row twice).
    rows = {
        answer.step: {
            "participant_id": conversation.participant_id,
            "conversation_id": conversation.id,
            "flow_id": conversation.flow_id,
            "flow_version": conversation.flow_version,
            "step_key": answer.step,
            "value": answer.value,
            "raw": answer.raw or None,
            "skipped": answer.skipped,
            "language": language,
            "neighbourhood": neighbourhood,
            "created_at": now,
        }
        for answer in answers
    }
    await session.execute(_upsert(dialect_of(session)), list(rows.values()))
    # Which answer is the person's latest changed: the reports' counts read it.
    await session.execute(
        answer_order.ONE_PERSON_FLOW,
        {"participant": conversation.participant_id, "flow": conversation.flow_id},
    )


ANSWERS = Answer.__table__
REPLACED = ("flow_version", "value", "raw", "skipped", "language", "neighbourhood", "created_at")


@cache
def _upsert(dialect: str) -> Any:
    """Insert an answer, or replace the one given before to the same step."""
    statement = insert_for(dialect, ANSWERS)
    return statement.on_conflict_do_update(
        index_elements=["conversation_id", "step_key"],
        set_={name: statement.excluded[name] for name in REPLACED},
    )
