"""Retention: old answers lose their link to the person; recent ones stay as they are."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import make_url, select, update

from bot.app import App
from bot.privacy.retention import purge
from bot.storage import participants
from bot.storage.models import Answer, Conversation, Participant, utcnow
from tests.helpers import Person
from tests.privacy.people import onboard

OLD_TEXT = "OldParkWalrus"


async def pid_of(app: App, user_id: str) -> int:
    async with app.database.transaction() as session:
        found = await participants.get(session, "test", user_id)
        assert found is not None
        return found.id


async def age(app: App, pid: int, days: int, conversations: bool = True) -> None:
    """Move a person's answers (and conversations) `days` into the past."""
    shift = timedelta(days=days)
    async with app.database.transaction() as session:
        for row in (
            (await session.execute(select(Answer).where(Answer.participant_id == pid)))
            .scalars()
            .all()
        ):
            row.created_at = row.created_at - shift
        if conversations:
            for row in (
                (
                    await session.execute(
                        select(Conversation).where(Conversation.participant_id == pid)
                    )
                )
                .scalars()
                .all()
            ):
                row.started_at = row.started_at - shift
                row.updated_at = row.updated_at - shift


async def answers_of(app: App, pid: int | None) -> list[Answer]:
    async with app.database.transaction() as session:
        stmt = select(Answer).order_by(Answer.id)
        stmt = stmt.where(
            Answer.participant_id.is_(None) if pid is None else Answer.participant_id == pid
        )
        return list((await session.execute(stmt)).scalars().all())


async def test_old_answers_are_anonymised_and_recent_ones_kept(app: App) -> None:
    old, new = Person(app.service, user_id="600000001"), Person(app.service, user_id="600000002")
    await onboard(old)
    await old.say(f"{OLD_TEXT} call 0611112222")
    await old.toggle("green")
    await onboard(new)
    await new.say("The new market")
    await new.toggle("sport")
    old_pid, new_pid = await pid_of(app, "600000001"), await pid_of(app, "600000002")
    before_old = await answers_of(app, old_pid)
    before_new = await answers_of(app, new_pid)
    await age(app, old_pid, app.settings.retention_days + 5)

    result = await purge(app)

    assert result.answers == len(before_old)
    assert result.free_texts == 1  # the "good" answer
    assert result.conversations == 2  # onboarding and what-matters of the old person
    assert await answers_of(app, old_pid) == []
    anonymous = await answers_of(app, None)
    assert len(anonymous) == len(before_old)
    by_step = {a.step_key: a for a in anonymous}
    assert all(a.conversation_id is None and a.raw is None for a in anonymous)
    assert by_step["good"].value is None  # free text goes: it could name someone
    assert by_step["change"].value == ["green"]  # counts stay
    assert by_step["change"].neighbourhood == "kerkelanden"
    # The recent person is untouched.
    after_new = await answers_of(app, new_pid)
    assert [(a.id, a.value, a.raw, a.conversation_id) for a in after_new] == [
        (a.id, a.value, a.raw, a.conversation_id) for a in before_new
    ]
    async with app.database.transaction() as session:
        assert await session.get(Participant, old_pid) is not None
        conversations = (await session.execute(select(Conversation))).scalars().all()
        assert {c.participant_id for c in conversations} == {new_pid}
        dumped = json.dumps(
            [c.state for c in conversations] + [a.value for a in anonymous], default=str
        )
    assert OLD_TEXT not in dumped

    url = make_url(app.settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        data = database.read_bytes()
        wal = Path(f"{database}-wal")
        data += wal.read_bytes() if wal.exists() else b""
        assert OLD_TEXT.encode() not in data

    again = await purge(app)
    assert (again.answers, again.conversations) == (0, 0)


async def test_a_conversation_still_going_forgets_its_old_answers(app: App) -> None:
    person = Person(app.service, user_id="600000003")
    await onboard(person)
    await person.say(f"{OLD_TEXT} is nice")
    pid = await pid_of(app, "600000003")
    await age(app, pid, app.settings.retention_days + 1, conversations=False)
    async with app.database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.participant_id == pid)
            .values(updated_at=utcnow())
        )
    result = await purge(app)
    assert result.conversations == 0
    async with app.database.transaction() as session:
        states = [c.state for c in (await session.execute(select(Conversation))).scalars().all()]
    assert OLD_TEXT not in json.dumps(states)
    # The conversation goes on where it was.
    assert "What would you like to change?" in await person.say("/help")


async def test_nothing_to_do_changes_nothing(app: App) -> None:
    person = Person(app.service, user_id="600000004")
    await onboard(person)
    await person.say("Recent words")
    before = await answers_of(app, await pid_of(app, "600000004"))
    result = await purge(app)
    assert (result.answers, result.conversations) == (0, 0)
    assert len(await answers_of(app, await pid_of(app, "600000004"))) == len(before)
