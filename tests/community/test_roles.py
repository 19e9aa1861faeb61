"""Workers are made by a single-use, expiring, hashed invite code or by an operator;
residents cannot use worker commands, and every refusal is logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.community import roles
from bot.storage.models import utcnow
from bot.storage.models.community import WorkerInvite, WorkerNeighbourhood
from tests.community.helpers import cli, invite_code, onboard, participant
from tests.helpers import Person


async def test_invite_code_from_the_command_line_makes_a_worker_once(app: App) -> None:
    result = await cli(app, "workers", "invite", "--neighbourhood", "kerkelanden")
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    assert len(roles.normalise_code(code)) == roles.CODE_LENGTH
    # Only a keyed hash is stored, never the code.
    async with app.database.transaction() as session:
        stored = (await session.execute(select(WorkerInvite))).scalar_one()
    assert stored.code_hash == roles.hash_code(code, app.settings.secret)
    assert roles.normalise_code(code) not in stored.code_hash.upper()

    worker = Person(app.service, user_id="w1")
    await onboard(worker)
    reply = await worker.say(f"/worker {code.lower().replace('-', ' ')}")
    assert "You are now a community worker for Kerkelanden" in reply
    assert "/newactivity" in reply
    p = await participant(app, worker)
    assert p.role == "worker"
    async with app.database.transaction() as session:
        assert await roles.neighbourhoods_of(session, p.id) == ["kerkelanden"]

    # The same code a second time, by someone else: refused, nothing changes.
    other = Person(app.service, user_id="r1")
    await onboard(other)
    reply = await other.say(f"/worker {code}")
    assert "This code does not work" in reply
    assert (await participant(app, other)).role == "resident"


async def test_expired_and_wrong_codes_are_refused_and_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    code = await invite_code(app)
    async with app.database.transaction() as session:
        await session.execute(
            update(WorkerInvite).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    person = Person(app.service, user_id="r1")
    await onboard(person)
    caplog.set_level(logging.WARNING)
    for attempt in (code, "AAAA-BBBB-CCCC", "short", ""):
        reply = await person.say(f"/worker {attempt}".strip())
        assert "community worker for" not in reply
    assert (await participant(app, person)).role == "resident"
    assert sum("/worker refused" in r.getMessage() for r in caplog.records) == 3


async def test_a_new_person_with_a_code_is_asked_to_consent_first(app: App) -> None:
    code = await invite_code(app, ())
    person = Person(app.service, user_id="w9", hint="en")
    reply = await person.say(f"/worker {code}")
    assert "for the whole town" in reply
    assert "get to know each other" in reply
    assert person.question().step == "language"
    p = await participant(app, person)
    async with app.database.transaction() as session:
        assert await roles.scope(session, p) is None  # the whole town


@pytest.mark.parametrize("command", ["/newactivity", "/invite", "/proposals", "/news"])
async def test_residents_cannot_use_worker_commands(
    app: App, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    person = Person(app.service, user_id="r1")
    await onboard(person)
    caplog.set_level(logging.WARNING)
    reply = await person.say(command)
    assert "only community workers can do that" in reply
    assert any(f"{command} refused" in r.getMessage() for r in caplog.records)
    # Nothing was started: the next answer lands in their own conversation.
    await person.say("The park")
    assert person.question().step == "change"
    assert any(f"{command} refused" in r.getMessage() for r in caplog.records)


async def test_grant_list_and_revoke_from_the_command_line(app: App) -> None:
    result = await cli(
        app,
        "workers",
        "grant",
        "--channel",
        "test",
        "--user-id",
        "w5",
        "-n",
        "centrum",
        "-n",
        "hofkamp",
    )
    assert result.exit_code == 0, result.output
    listed = await cli(app, "workers", "list")
    assert "test\tw5\tworker\tcentrum,hofkamp" in listed.output
    worker = Person(app.service, user_id="w5")
    await onboard(worker, neighbourhood="centrum")
    assert "/proposals" in await worker.say("/worker")

    result = await cli(
        app, "workers", "revoke", "--channel", "test", "--user-id", "w5", "-n", "centrum"
    )
    assert result.exit_code == 0 and "now worker" in result.output
    p = await participant(app, worker)
    async with app.database.transaction() as session:
        assert await roles.neighbourhoods_of(session, p.id) == ["hofkamp"]
    result = await cli(app, "workers", "revoke", "--channel", "test", "--user-id", "w5")
    assert result.exit_code == 0 and "now resident" in result.output
    assert "only community workers" in await worker.say("/newactivity")
    async with app.database.transaction() as session:
        assert not (await session.execute(select(WorkerNeighbourhood))).first()
    result = await cli(app, "workers", "revoke", "--channel", "test", "--user-id", "w5")
    assert result.exit_code == 1


async def test_unknown_neighbourhood_is_refused_by_the_command_line(app: App) -> None:
    result = await cli(app, "workers", "invite", "--neighbourhood", "atlantis")
    assert result.exit_code == 2 and "unknown neighbourhood atlantis" in result.output


async def test_help_shows_worker_commands_to_workers_only(app: App) -> None:
    from tests.community.helpers import make_worker, onboard
    from tests.helpers import Person

    worker = await make_worker(app)
    resident = Person(app.service, user_id="r-help")
    await onboard(resident)
    assert "/worker – the commands for community workers" in await worker.say("/help")
    shown = await resident.say("/help")
    assert "/worker" not in shown and "/propose" in shown
    assert "/newactivity" not in shown
