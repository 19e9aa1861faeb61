"""A turn's changes written as plain UPDATEs (`write_through`), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event, select

from bot.storage import participants, write_through
from bot.storage.db import Database
from bot.storage.models import Conversation, Participant


async def _someone(database: Database) -> tuple[int, int]:
    async with database.transaction() as session:
        person = await participants.get_or_create(session, "telegram", "42")
        conversation = Conversation(
            participant_id=person.id, flow_id="f", flow_version=1, status="active", state={}
        )
        session.add(conversation)
        await session.flush()
        return person.id, conversation.id


async def test_changes_are_written_and_the_commit_has_nothing_left_to_flush(
    database: Database,
) -> None:
    person_id, conversation_id = await _someone(database)
    flushes: list[int] = []
    async with database.transaction() as session:
        event.listen(session.sync_session, "before_flush", lambda *_: flushes.append(1))
        person = await session.get(Participant, person_id)
        conversation = await session.get(Conversation, conversation_id)
        assert person is not None and conversation is not None
        person.neighbourhood = "kerkelanden"
        person.language = person.language  # set to what it was: no change
        conversation.state = {"step": "age", "values": {"emoji": "🌳", "rtl": "حي"}}
        await write_through.write(session)
        assert not session.dirty
        # A query after it runs no flush: the session is clean.
        await session.execute(select(Participant.id))
    assert flushes == []
    async with database.transaction() as session:
        person = await session.get(Participant, person_id)
        conversation = await session.get(Conversation, conversation_id)
        assert person is not None and conversation is not None
        assert person.neighbourhood == "kerkelanden"
        assert conversation.state == {"step": "age", "values": {"emoji": "🌳", "rtl": "حي"}}


async def test_what_it_does_not_write_is_left_to_the_flush(database: Database) -> None:
    person_id, _conversation_id = await _someone(database)
    async with database.transaction() as session:
        person = await session.get(Participant, person_id)
        assert person is not None
        person.age_group = "18-27"
        other = Participant(channel="signal", channel_user_id="x", role="resident")
        session.add(other)  # new: the flush inserts it
        await write_through.write(session)
        assert other in session.new and person not in session.dirty
    async with database.transaction() as session:
        rows = (await session.execute(select(Participant).order_by(Participant.id))).scalars()
        assert [(p.channel_user_id, p.age_group) for p in rows] == [("42", "18-27"), ("x", None)]
