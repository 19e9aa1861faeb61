"""Reading and writing participants."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Participant, utcnow


async def get(session: AsyncSession, channel: str, user_id: str) -> Participant | None:
    result = await session.execute(
        select(Participant).where(
            Participant.channel == channel, Participant.channel_user_id == user_id
        )
    )
    return result.scalar_one_or_none()


async def get_or_create(session: AsyncSession, channel: str, user_id: str) -> Participant:
    """The participant for a channel id, created on first contact (race-safe)."""
    found = await get(session, channel, user_id)
    if found is not None:
        found.last_seen_at = utcnow()
        return found
    participant = Participant(channel=channel, channel_user_id=user_id, role="resident")
    try:
        async with session.begin_nested():
            session.add(participant)
            await session.flush()
    except IntegrityError:
        found = await get(session, channel, user_id)
        assert found is not None
        return found
    return participant


async def erase(session: AsyncSession, participant_id: int) -> None:
    """Delete a participant; conversations and answers go with them (ON DELETE CASCADE)."""
    from bot.storage.models import Answer, Conversation

    await session.execute(delete(Answer).where(Answer.participant_id == participant_id))
    await session.execute(delete(Conversation).where(Conversation.participant_id == participant_id))
    await session.execute(delete(Participant).where(Participant.id == participant_id))
