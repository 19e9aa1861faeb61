"""Reading and writing participants."""

from __future__ import annotations

from sqlalchemy import select
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
