"""`buurtbot workers invite / grant / list / revoke`."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.community import roles
from bot.storage.models.community import WorkerInvite, WorkerNeighbourhood
from tests.community.helpers import cli, onboard, participant
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


async def test_grant_list_and_revoke_from_the_command_line(app: App) -> None:
    result = await cli(
        app,
        "workers",
        "grant",
        "--channel",
        "terminal",
        "--user-id",
        "w5",
        "-n",
        "centrum",
        "-n",
        "hofkamp",
    )
    assert result.exit_code == 0, result.output
    listed = await cli(app, "workers", "list")
    assert "terminal\tw5\tworker\tcentrum,hofkamp" in listed.output
    worker = Person(app.service, user_id="w5", channel="terminal")
    await onboard(worker, neighbourhood="centrum")
    assert "/proposals" in await worker.say("/worker")

    result = await cli(
        app, "workers", "revoke", "--channel", "terminal", "--user-id", "w5", "-n", "centrum"
    )
    assert result.exit_code == 0 and "now worker" in result.output
    p = await participant(app, worker)
    async with app.database.transaction() as session:
        assert await roles.neighbourhoods_of(session, p.id) == ["hofkamp"]
    result = await cli(app, "workers", "revoke", "--channel", "terminal", "--user-id", "w5")
    assert result.exit_code == 0 and "now resident" in result.output
    assert "only community workers" in await worker.say("/newactivity")
    async with app.database.transaction() as session:
        assert not (await session.execute(select(WorkerNeighbourhood))).first()
    result = await cli(app, "workers", "revoke", "--channel", "terminal", "--user-id", "w5")
    assert result.exit_code == 1


async def test_unknown_neighbourhood_is_refused_by_the_command_line(app: App) -> None:
    result = await cli(app, "workers", "invite", "--neighbourhood", "atlantis")
    assert result.exit_code == 2 and "unknown neighbourhood atlantis" in result.output
