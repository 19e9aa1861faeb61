"""Reading and writing participants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.conversations import ACTIVE
from bot.storage.db import Database
from bot.storage.models import Conversation, Participant, utcnow

TABLE = Participant.__table__

# Built once: these run on every turn, and building a statement costs more than running
# a cached one.
_CHANNEL_ID = (
    Participant.channel == bindparam("channel"),
    Participant.channel_user_id == bindparam("user_id"),
)
_BY_CHANNEL_ID = select(Participant).where(*_CHANNEL_ID)
_WITH_ACTIVE = (
    select(Participant, Conversation)
    .outerjoin(
        Conversation,
        and_(Conversation.participant_id == Participant.id, Conversation.status == ACTIVE),
    )
    .where(*_CHANNEL_ID)
    .order_by(Conversation.id.desc())
    .limit(1)
)


async def get(session: AsyncSession, channel: str, user_id: str) -> Participant | None:
    result = await session.execute(_BY_CHANNEL_ID, {"channel": channel, "user_id": user_id})
    return result.scalar_one_or_none()


async def get_or_create(session: AsyncSession, channel: str, user_id: str) -> Participant:
    """The participant for a channel id, created on first contact (race-safe)."""
    participant, _ = await arrive(session, channel, user_id)
    return participant


async def arrive(
    session: AsyncSession, channel: str, user_id: str
) -> tuple[Participant, Conversation | None]:
    """The participant who writes, with their active conversation, in one query.

    Created on first contact (race-safe). `last_seen_at` is kept to the hour: enough to
    tell a person when we last heard from them, and no write on every message.
    """
    row = (await session.execute(_WITH_ACTIVE, {"channel": channel, "user_id": user_id})).first()
    if row is not None:
        found, active = row
        if found.last_seen_at < (hour := _this_hour()):
            found.last_seen_at = hour
        return found, active
    participant = Participant(
        channel=channel, channel_user_id=user_id, role="resident", last_seen_at=_this_hour()
    )
    try:
        async with session.begin_nested():
            session.add(participant)
            await session.flush()
    except IntegrityError:
        return await arrive(session, channel, user_id)
    return participant, None


def _this_hour() -> datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0)


async def open_question(database: Database, channel: str, user_id: str) -> dict[str, Any] | None:
    """The last question with buttons shown to a person (see `Participant.open_question`)."""
    async with database.engine.connect() as connection:
        result = await connection.execute(
            select(TABLE.c.open_question).where(
                TABLE.c.channel == channel, TABLE.c.channel_user_id == user_id
            )
        )
        return result.scalar_one_or_none()


async def set_open_question(
    database: Database, channel: str, user_id: str, question: dict[str, Any] | None
) -> None:
    """Remember (or, with None, forget) the question with buttons a person sees now."""
    async with database.engine.begin() as connection:
        await connection.execute(
            update(TABLE)
            .where(TABLE.c.channel == channel, TABLE.c.channel_user_id == user_id)
            .values(open_question=question)
        )
