"""A direct reply that could not be delivered is queued in the outbox for later."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.conversation.turns import Reply
from bot.flows.events import Document, Say
from bot.storage.models import OutboxMessage
from tests.helpers import Person


async def _queued(app: App) -> list[OutboxMessage]:
    async with app.database.transaction() as session:
        return list((await session.execute(select(OutboxMessage))).scalars().all())


async def test_a_question_comes_again_through_the_outbox(app: App) -> None:
    ada = Person(app.service)
    reply = await ada.send("/start")
    assert reply.conversation_id is not None
    assert await app.service.undelivered("test", ada.user_id, reply)
    (row,) = await _queued(app)
    assert row.kind == "reply" and row.urgent
    assert row.content == {"type": "question", "conversation_id": reply.conversation_id}
    again = await app.service.reply_for(reply.conversation_id)
    assert again.messages and again.messages[-1].text == reply.messages[-1].text


async def test_texts_without_a_question_come_again_as_they_were(app: App) -> None:
    ada = Person(app.service)
    await ada.send("/start")
    reply = Reply(messages=[Say("One."), Say("Two.")], language="en", conversation_id=None)
    assert await app.service.undelivered("test", ada.user_id, reply)
    (row,) = await _queued(app)
    assert row.content == {"type": "text", "text": "One.\n\nTwo."}
    assert row.expires_at is not None


async def test_nothing_is_queued_for_files_strangers_or_people_who_stopped(app: App) -> None:
    file_only = Reply(messages=[Document(filename="data.json", data=b"x")], language="en")
    stranger = Reply(messages=[Say("Hi")], language="en")
    ada = Person(app.service)
    await ada.send("/start")
    assert not await app.service.undelivered("test", ada.user_id, file_only)
    assert not await app.service.undelivered("test", "nobody", stranger)
    await ada.send("/stop")
    assert not await app.service.undelivered("test", ada.user_id, stranger)
    assert await _queued(app) == []
