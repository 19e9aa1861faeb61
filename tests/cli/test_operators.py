"""The operator's command line under real use: bad input refused in one line with exit
status 2 before the database is touched, a folder that is not a bot's, local times and
headers, `broadcast --flow`, batch ids, and cancelling from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import App
from bot.cli import app as cli_app
from bot.community import activities
from bot.storage.models import OutboxMessage, utcnow
from bot.storage.models.community import Activity, Rsvp
from tests.community.helpers import cli, onboard, participant, queued
from tests.conftest import ROOT
from tests.helpers import Person

FUTURE = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT14:00")
PAST = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT14:00")


def untouched_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """Settings of a bot whose database does not exist yet: a command that touched it
    would create the file."""
    env = {
        "BUURTBOT_DATABASE_URL": f"sqlite:///{tmp_path}/never.db",
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_CONVERSATIONS_DIR": str(ROOT / "conversations"),
        "BUURTBOT_SECRET_KEY": "cli-test",
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
        "BUURTBOT_TIMEZONE": "Europe/Amsterdam",
    }
    env.update(more)
    return env


BAD_INPUT = [
    (
        [
            "activities",
            "add",
            "--title",
            "X",
            "--starts",
            FUTURE,
            "--place",
            "P",
            "--age-group",
            "teens",
        ],
        "unknown age group teens",
    ),
    (
        [
            "activities",
            "add",
            "--title",
            "X",
            "--starts",
            FUTURE,
            "--place",
            "P",
            "--interest",
            "knitting",
        ],
        "unknown interest knitting",
    ),
    (
        [
            "activities",
            "add",
            "--title",
            "X",
            "--starts",
            FUTURE,
            "--place",
            "P",
            "--language",
            "fr",
        ],
        "unknown language fr",
    ),
    (
        ["activities", "add", "--title", "X", "--starts", FUTURE, "--place", "P", "-n", "atlantis"],
        "unknown neighbourhood atlantis",
    ),
    (["activities", "add", "--title", "X", "--starts", PAST, "--place", "P"], "in the past"),
    (
        ["activities", "add", "--title", "X", "--starts", "next week", "--place", "P"],
        "not an ISO date",
    ),
    (["activities", "cancel", "0"], "ID: not an id: 0"),
    (["broadcast", "--activity", "99999999999999999999"], "--activity: not an id"),
    (["broadcast", "--activity", "1", "--at", PAST], "--at: " + PAST + " is in the past"),
    (["broadcast", "--activity", "1", "--age-group", "old"], "unknown age group old"),
    (["broadcast", "--flow", "no-such-flow"], "no flow 'no-such-flow'"),
    (["broadcast", "--flow", "invite"], "a flow for community workers"),
    (["broadcast", "--flow", "invitation"], "only the bot fills in"),
    (["broadcast", "--flow", "what-matters", "--activity", "1"], "either --activity"),
    (["broadcast"], "either --activity"),
    (["export", "answers", "--flow", "no-such-flow"], "no flow 'no-such-flow'"),
    (["report", "--flow", "no-such-flow"], "no flow 'no-such-flow'"),
    (["report", "--language", "fr"], "unknown language fr"),
    (["chat", "--language", "fr"], "unknown language fr"),
    (
        ["workers", "grant", "--channel", "telegram", "--user-id", "@anouk"],
        "not a Telegram user id",
    ),
    (["workers", "grant", "--channel", "signal", "--user-id", "+31612345678"], "not a Signal id"),
    (["workers", "grant", "--channel", "whatsapp", "--user-id", "1"], "unknown channel"),
    (["workers", "revoke", "--channel", "telegram", "--user-id", "12ab"], "not a Telegram user id"),
    (["outbox", "retry", "--since", "last tuesday"], "--since: not an ISO date"),
]


@pytest.mark.parametrize(("args", "says"), BAD_INPUT, ids=lambda v: " ".join(v)[:40])
def test_bad_input_is_refused_in_one_line_before_the_database(
    tmp_path: Path, args: list[str], says: str
) -> None:
    result = CliRunner().invoke(cli_app, args, env=untouched_env(tmp_path))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("BUURTBOT_TIMEZONE", "Mars/Olympus", "BUURTBOT_TIMEZONE: unknown time zone"),
        ("BUURTBOT_DEFAULT_LANGUAGE", "fr", "BUURTBOT_DEFAULT_LANGUAGE"),
        ("BUURTBOT_QUIET_HOURS", "late", "BUURTBOT_QUIET_HOURS"),
        ("BUURTBOT_DEPLOYMENT_FILE", "/nowhere/buurtbot.yaml", "no deployment file"),
    ],
)
def test_settings_that_cannot_work_are_refused(
    tmp_path: Path, setting: str, value: str, says: str
) -> None:
    for args in (["activities", "list"], ["workers", "invite"], ["outbox", "status"]):
        result = CliRunner().invoke(cli_app, args, env=untouched_env(tmp_path, **{setting: value}))
        assert result.exit_code == 2, result.output
        assert says in result.output and len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "never.db").exists()


def test_a_deployment_file_without_a_town_is_refused(tmp_path: Path) -> None:
    """Today's bug: the consent read "Deze chat is van Buurtbot in ."."""
    broken = tmp_path / "buurtbot.yaml"
    broken.write_text("organisation:\n  name: Wijkteam\nneighbourhoods:\n  - {key: a, name: A}\n")
    env = untouched_env(tmp_path, BUURTBOT_DEPLOYMENT_FILE=str(broken))
    result = CliRunner().invoke(cli_app, ["workers", "invite"], env=env)
    assert result.exit_code == 2
    assert "organisation.town: empty" in result.output
    broken.write_text("organisation: [\n")
    result = CliRunner().invoke(cli_app, ["workers", "invite"], env=env)
    assert result.exit_code == 2 and "not a readable YAML file" in result.output
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    "command",
    ["activities list", "workers invite", "outbox status", "db upgrade", "run", "demo seed"],
)
def test_a_command_from_another_folder_finds_nothing_to_work_on(
    tmp_path: Path, command: str
) -> None:
    """Default settings, run where there is no bot: one line, and no stray database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command.split()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "nothing to work on here" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert list(tmp_path.iterdir()) == []  # no data/, no buurtbot.db


def test_read_only_commands_do_not_create_a_database(tmp_path: Path) -> None:
    """In a bot's folder before its first run: said, not created."""
    for args in (["activities", "list"], ["outbox", "status"], ["workers", "list"]):
        result = CliRunner().invoke(cli_app, args, env=untouched_env(tmp_path))
        assert result.exit_code == 2, result.output
        assert "no database at" in result.output
    assert not (tmp_path / "never.db").exists()


async def make_activity(app: App, **changes: object) -> int:
    async with app.database.transaction() as session:
        made = await activities.create_activity(
            session,
            title={"_": "Buurtbarbecue", "tr": "Mahalle barbeküsü"},
            starts_at=utcnow() + timedelta(days=10),
            place="De Schakel",
            neighbourhoods=["kerkelanden"],
        )
        for name, value in changes.items():
            setattr(made, name, value)
        return made.id


async def residents(app: App, count: int = 3) -> list[Person]:
    people = []
    for number in range(count):
        person = Person(app.service, user_id=f"r{number}")
        await onboard(person, neighbourhood="kerkelanden")
        people.append(person)
    return people


async def test_lists_have_headers_and_local_times(app: App) -> None:
    await make_activity(app, capacity=40)
    listed = await cli(app, "activities", "list")
    assert listed.exit_code == 0, listed.output
    header, row = listed.output.strip().splitlines()
    assert header.split("\t")[:5] == ["id", "starts", "status", "where", "going"]
    starts = row.split("\t")[1]
    # 14:00 Amsterdam is 13:00 UTC in winter, 12:00 in summer: printed as local.
    assert starts.endswith(("+01:00", "+02:00")) and "0/40" in row
    result = await cli(
        app, "workers", "grant", "--channel", "telegram", "--user-id", "42", "--name", "Fatima"
    )
    assert result.exit_code == 0, result.output
    workers = (await cli(app, "workers", "list")).output.strip().splitlines()
    assert workers[0] == "id\tchannel\tuser id\trole\tneighbourhoods\tname"
    assert workers[1].endswith("telegram\t42\tworker\t*\tFatima")


async def test_broadcast_a_flow_prints_count_and_batch(app: App) -> None:
    await residents(app, 3)
    result = await cli(app, "broadcast", "--flow", "checkin", "-n", "kerkelanden")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "3"
    batch = next(line.split()[1].rstrip(":") for line in lines if line.startswith("batch "))
    rows = await queued(app, kind="broadcast")
    assert len(rows) == 3 and {r.batch_id for r in rows} == {batch}
    assert {r.content["flow"] for r in rows} == {"checkin"}
    status = await cli(app, "outbox", "status", "--batch", batch)
    assert status.exit_code == 0 and "0 of 3 sent" in status.output
    unknown = await cli(app, "outbox", "status", "--batch", "no-such-batch")
    assert unknown.exit_code == 1 and "no broadcast with batch id no-such-batch" in unknown.output


async def test_a_cancelled_activity_is_refused_by_the_command_line(app: App) -> None:
    await residents(app, 2)
    activity_id = await make_activity(app)
    result = await cli(app, "activities", "cancel", str(activity_id))
    assert result.exit_code == 0, result.output
    refused = await cli(app, "broadcast", "--activity", str(activity_id))
    assert refused.exit_code == 1
    assert "cannot be broadcast: it is cancelled" in refused.output
    assert await queued(app, kind="invitation") == []
    again = await cli(app, "activities", "cancel", str(activity_id))
    assert again.exit_code == 1 and "already cancelled" in again.output
    listed = await cli(app, "activities", "list")
    assert "Buurtbarbecue" not in listed.output


async def test_a_full_or_past_activity_is_refused_too(app: App) -> None:
    people = await residents(app, 1)
    past = await make_activity(app, starts_at=utcnow() - timedelta(hours=1))
    result = await cli(app, "broadcast", "--activity", str(past))
    assert result.exit_code == 1 and "it has already started" in result.output
    unknown = await cli(app, "broadcast", "--activity", "4242")
    assert unknown.exit_code == 1 and "no such activity" in unknown.output
    full = await make_activity(app, capacity=1)
    async with app.database.transaction() as session:
        found = await participant(app, people[0])
        session.add(Rsvp(activity_id=full, participant_id=found.id, answer="going"))
    result = await cli(app, "broadcast", "--activity", str(full))
    assert result.exit_code == 1 and "it is full" in result.output
    assert await queued(app, kind="invitation") == []


async def test_cancel_from_the_command_line_stops_queued_invitations(app: App) -> None:
    await residents(app, 3)
    activity_id = await make_activity(app)
    at = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    result = await cli(app, "broadcast", "--activity", str(activity_id), "--at", at)
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1] == "3"
    cancelled = await cli(app, "activities", "cancel", str(activity_id))
    assert "3 queued messages stopped" in cancelled.output
    async with app.database.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        found = await session.get(Activity, activity_id)
        assert found is not None and found.status == "cancelled"
    assert {r.status for r in rows if r.kind == "invitation"} == {"cancelled"}


def test_a_search_path_without_a_schema_is_one_clear_line(tmp_path: Path) -> None:
    """`?options=-csearch_path=name` for a schema that does not exist: PostgreSQL has
    nowhere to put the tables. Said in one line, not an AttributeError's traceback."""
    base = os.environ.get("BUURTBOT_TEST_DATABASE_URL")
    if not base:
        pytest.skip("BUURTBOT_TEST_DATABASE_URL is not set")
    url = base.split("?")[0] + "?options=-csearch_path%3Dno_such_schema_here"
    env = {**os.environ, **untouched_env(tmp_path, BUURTBOT_DATABASE_URL=url)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "BUURTBOT_DATABASE_URL: PostgreSQL has no schema to keep the tables in (the "
        "search_path names none that exists). Create it first (CREATE SCHEMA name), or "
        "leave out the search_path option."
    ]
