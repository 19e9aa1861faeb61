"""Reading and writing conversations and their answers."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.events import Answer as EngineAnswer
from bot.flows.state import State
from bot.storage.models import Answer, Conversation, utcnow

ACTIVE, PAUSED, FINISHED, EXPIRED, ABANDONED = (
    "active",
    "paused",
    "finished",
    "expired",
    "abandoned",
)


async def active(session: AsyncSession, participant_id: int) -> Conversation | None:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.participant_id == participant_id, Conversation.status == ACTIVE)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


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
    for answer in answers:
        await session.execute(
            delete(Answer).where(
                Answer.conversation_id == conversation.id, Answer.step_key == answer.step
            )
        )
        session.add(
            Answer(
                participant_id=conversation.participant_id,
                conversation_id=conversation.id,
                flow_id=conversation.flow_id,
                flow_version=conversation.flow_version,
                step_key=answer.step,
                value=answer.value,
                raw=answer.raw or None,
                skipped=answer.skipped,
                language=language,
                neighbourhood=neighbourhood,
            )
        )
    await session.flush()
