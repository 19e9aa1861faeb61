"""/forget leaves nothing of the person: not in any table, not in SQLite's file or WAL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    make_url,
    select,
)

from bot.app import App
from bot.conversation.service import ConversationService
from bot.privacy import erasure
from bot.storage import participants as participants_module
from bot.storage.db import sync_url
from bot.storage.models import Answer, Base, OutboxMessage, Participant
from tests.helpers import Person
from tests.privacy.people import onboard

SECRET_TEXT = "ZebraCanary42"
USER_ID = "7736251904"
OTHER_ID = "5550001111"


@pytest.fixture
def wired() -> None:
    """The service as it is: /forget goes through `erasure` (kept as a named fixture)."""


async def participant_id(app: App, user_id: str) -> int:
    async with app.database.transaction() as session:
        found = await participants_module.get(session, "test", user_id)
        assert found is not None
        return found.id


async def add_rows_in_other_tables(app: App, pid: int, other_pid: int) -> None:
    """An outbox message, and (when the community tables exist) an activity the person
    made, an invitation to them and their RSVP, a proposal with a review note."""
    from bot.storage.models import community

    async with app.database.transaction() as session:
        session.add(
            OutboxMessage(
                participant_id=pid,
                channel="test",
                kind="followup",
                content={"type": "text", "text": f"{SECRET_TEXT} follow-up"},
            )
        )
        activity = community.Activity(
            title={"_": "Barbecue"}, description={"_": "Sport day"}, created_by=pid
        )
        session.add(activity)
        await session.flush()
        session.add(
            community.Invitation(activity_id=activity.id, participant_id=pid, batch_id="b1")
        )
        session.add(
            community.Invitation(
                activity_id=activity.id, participant_id=other_pid, batch_id="b1", invited_by=pid
            )
        )
        session.add(community.Rsvp(activity_id=activity.id, participant_id=pid, answer="going"))
        proposal = community.Proposal(
            participant_id=pid, neighbourhood="kerkelanden", details={"what": SECRET_TEXT}
        )
        session.add(proposal)
        await session.flush()
        session.add(
            community.ProposalNote(
                proposal_id=proposal.id, author_id=other_pid, kind="question", text=SECRET_TEXT
            )
        )


def dump_every_table(url: str) -> dict[str, list[dict]]:
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        dumped = {
            table.name: [dict(row._mapping) for row in connection.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return dumped


def rows_pointing_at(dumped: dict[str, list[dict]], pid: int) -> list[str]:
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [
            c.name
            for c in table.columns
            if any(fk.column.table.name == "participants" for fk in c.foreign_keys)
            or (table.name == "participants" and c.name == "id")
        ]
        for row in dumped[table.name]:
            found += [f"{table.name}.{c}" for c in columns if row[c] == pid]
    return found


async def test_forget_leaves_no_row_and_no_bytes(app: App, wired: None) -> None:
    person = Person(app.service, user_id=USER_ID)
    other = Person(app.service, user_id=OTHER_ID)
    await onboard(person)
    await person.say(f"{SECRET_TEXT} is the park")
    await onboard(other)
    await other.say("The market")
    pid = await participant_id(app, USER_ID)
    other_pid = await participant_id(app, OTHER_ID)
    await add_rows_in_other_tables(app, pid, other_pid)
    before = dump_every_table(app.settings.database_url)
    assert rows_pointing_at(before, pid), "the test must start with rows of the person"
    assert SECRET_TEXT in json.dumps(before, default=str)

    await person.say("/forget")
    reply = await person.pick("yes")
    assert "deleted" in reply.lower()

    after = dump_every_table(app.settings.database_url)
    assert rows_pointing_at(after, pid) == []
    text = json.dumps(after, default=str)
    assert SECRET_TEXT not in text
    assert USER_ID not in text
    # Someone else's things stay: their answers, and the activity without its maker.
    assert "The market" in text
    assert rows_pointing_at(after, other_pid)
    assert [a["created_by"] for a in after["activities"]] == [None]
    assert [i["participant_id"] for i in after["invitations"]] == [other_pid]
    assert after["invitations"][0]["invited_by"] is None

    url = make_url(app.settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        files = [database, Path(f"{database}-wal")]
        for path in files:
            data = path.read_bytes() if path.exists() else b""
            assert SECRET_TEXT.encode() not in data, f"{path.name} still holds the answer"
            assert USER_ID.encode() not in data, f"{path.name} still holds the chat id"
        assert b"The market" in b"".join(p.read_bytes() for p in files if p.exists())


async def test_bytes_stay_without_the_checkpoint(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file check can fail: without the WAL checkpoint the answer is still on disk."""
    if make_url(app.settings.database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite files only")

    async def nothing(self: ConversationService) -> None:
        return None

    monkeypatch.setattr(ConversationService, "_after_erase", nothing)
    person = Person(app.service, user_id=USER_ID)
    await onboard(person)
    await person.say(f"{SECRET_TEXT} is the park")
    await person.say("/forget")
    await person.pick("yes")
    database = Path(make_url(app.settings.database_url).database or "")
    on_disk = database.read_bytes() + Path(f"{database}-wal").read_bytes()
    assert SECRET_TEXT.encode() in on_disk
    await erasure.vacuum_after_erase(app.database)
    on_disk = database.read_bytes() + Path(f"{database}-wal").read_bytes()
    assert SECRET_TEXT.encode() not in on_disk


async def test_no_consent_erases_too(app: App, wired: None) -> None:
    person = Person(app.service, user_id=USER_ID)
    await person.say("/start")
    await person.pick("en")
    await person.pick("no")
    dumped = dump_every_table(app.settings.database_url)
    assert USER_ID not in json.dumps(dumped, default=str)


async def test_erase_person_directly_counts_what_it_touched(app: App) -> None:
    person = Person(app.service, user_id=USER_ID)
    await onboard(person)
    await person.say(f"{SECRET_TEXT} is the park")
    other = Person(app.service, user_id=OTHER_ID)
    await onboard(other)
    pid = await participant_id(app, USER_ID)
    await add_rows_in_other_tables(app, pid, await participant_id(app, OTHER_ID))
    async with app.database.transaction() as session:
        touched = await erasure.erase_person(session, pid)
    assert touched["participants"] == 1
    assert touched["answers"] >= 4
    assert touched["outbox"] == 1
    assert touched["proposal_notes"] == 1  # through the proposal, not a direct link
    assert touched["activities.created_by"] == 1
    async with app.database.transaction() as session:
        left = (await session.execute(select(func.count()).select_from(Answer))).scalar_one()
        assert left > 0  # the other person's
        assert await session.get(Participant, pid) is None


def test_the_plan_follows_the_schema() -> None:
    """CASCADE and NOT NULL links are deleted (also through a parent); SET NULL and
    nullable links are cut."""
    metadata = MetaData()
    Table("participants", metadata, Column("id", Integer, primary_key=True))
    Table(
        "posts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("author", ForeignKey("participants.id", ondelete="CASCADE")),
    )
    Table(
        "comments",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("post", ForeignKey("posts.id", ondelete="CASCADE")),
        Column("editor", ForeignKey("participants.id", ondelete="SET NULL"), nullable=True),
    )
    Table(
        "likes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("who", ForeignKey("participants.id"), nullable=False),
    )
    Table(
        "mentions",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("whom", ForeignKey("participants.id"), nullable=True),
        Column("note", String),
    )
    plan = erasure.build_plan(metadata)
    owned = [t.name for t in plan.owned]
    assert owned[-1] == "participants"
    assert set(owned) == {"participants", "posts", "comments", "likes"}
    assert owned.index("comments") < owned.index("posts")
    nulled = {(link.table.name, link.column.name) for link in plan.nulling_links()}
    assert nulled == {("comments", "editor"), ("mentions", "whom")}


async def test_vacuum_is_harmless_on_postgres_and_sqlite(app: App) -> None:
    assert await erasure.vacuum_after_erase(app.database) is True
