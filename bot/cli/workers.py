"""`buurtbot workers`: invite codes and worker roles, for operators."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from bot.cli import preflight
from bot.community import audit, roles, staff
from bot.settings import Settings
from bot.storage import participants
from bot.storage.db import Database
from bot.storage.migrate import upgrade

app = typer.Typer(help="Community workers: invite codes and roles.", no_args_is_help=True)

T = TypeVar("T")


def run_in_database(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    """Apply the migrations, then run `work(session)` in one transaction."""
    upgrade(settings.database_url)

    async def main() -> T:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.close()

    return asyncio.run(main())


def check_neighbourhoods(settings: Settings, keys: list[str]) -> list[str]:
    """The keys, each known in the deployment file; otherwise a clear error, exit 2."""
    return preflight.neighbourhoods(preflight.deployment(settings), keys)


Neighbourhoods = typer.Option(
    None, "--neighbourhood", "-n", help="A neighbourhood key; repeat for more. None: all."
)


Name = typer.Option(
    None, "--name", help="The name the worker goes by (in the workers' list and the audit log)."
)


def check_name(name: str | None) -> str | None:
    """A name of at most 80 characters on one line; otherwise a clear error, exit 2."""
    if name is None:
        return None
    name = name.strip()
    if not name or len(name) > staff.LONGEST_NAME or not name.isprintable():
        typer.echo(
            f"--name: give a name of 1 to {staff.LONGEST_NAME} characters on one line", err=True
        )
        raise typer.Exit(2)
    return name


@app.command("invite")
def invite_command(neighbourhood: list[str] = Neighbourhoods, name: str = Name) -> None:
    """Print a single-use code (valid 7 days); `/worker CODE` in the chat makes a worker."""
    settings = preflight.settings()
    keys = check_neighbourhoods(settings, neighbourhood or [])
    name = check_name(name)

    async def work(session):
        return await staff.invite(session, settings, audit.Actor.operator(), name or "", keys)

    code = run_in_database(settings, work)
    where = ", ".join(keys) or "the whole town"
    typer.echo(f"Worker invite for {where}, valid for 7 days, once. Send in the chat:")
    typer.echo(f"/worker {code}")
    typer.echo(code)


@app.command("grant")
def grant_command(
    channel: str = typer.Option(..., "--channel", help="telegram, signal or terminal."),
    user_id: str = typer.Option(..., "--user-id", help="The person's id on that channel."),
    neighbourhood: list[str] = Neighbourhoods,
    admin: bool = typer.Option(False, "--admin", help="An admin: every neighbourhood."),
    name: str = Name,
) -> None:
    """Make someone a worker (or admin) directly."""
    user_id = preflight.user_id(channel, user_id)
    settings = preflight.settings()
    keys = check_neighbourhoods(settings, neighbourhood or [])
    name = check_name(name)

    async def work(session):
        person = await participants.get_or_create(session, channel, user_id)
        role = "admin" if admin else "worker"
        await staff.grant(
            session, settings, audit.Actor.operator(), person, keys, role=role, name=name
        )
        return person.id, person.role, await roles.neighbourhoods_of(session, person.id)

    pid, role, keys_now = run_in_database(settings, work)
    typer.echo(f"participant {pid} is {role} for {', '.join(keys_now) or 'the whole town'}")


@app.command("list")
def list_command() -> None:
    """Every worker and admin: id, channel, channel user id, role, neighbourhoods, name."""
    settings = preflight.settings()
    preflight.deployment(settings)
    preflight.database_exists(settings)

    async def work(session):
        return [
            (p.id, p.channel, p.channel_user_id, p.role, keys, p.worker_name or "")
            for p, keys in await roles.list_workers(session)
        ]

    rows = run_in_database(settings, work)
    if not rows:
        typer.echo("No workers yet. Make one with: buurtbot workers invite")
        return
    typer.echo("id\tchannel\tuser id\trole\tneighbourhoods\tname")
    for pid, channel, user_id, role, keys, name in rows:
        typer.echo(f"{pid}\t{channel}\t{user_id}\t{role}\t{','.join(keys) or '*'}\t{name}")


@app.command("revoke")
def revoke_command(
    channel: str = typer.Option(..., "--channel"),
    user_id: str = typer.Option(..., "--user-id"),
    neighbourhood: list[str] = typer.Option(
        None, "--neighbourhood", "-n", help="Take only this neighbourhood; repeat for more."
    ),
) -> None:
    """Take the worker role away (or only some neighbourhoods); their dashboard sessions end."""
    user_id = preflight.user_id(channel, user_id)
    settings = preflight.settings()
    keys = check_neighbourhoods(settings, neighbourhood or [])
    preflight.database_exists(settings)

    async def work(session):
        person = await participants.get(session, channel, user_id)
        if person is None:
            return None
        done = await staff.revoke(session, settings, audit.Actor.operator(), person, keys)
        return done, person.role

    result = run_in_database(settings, work)
    if result is None or not result[0]:
        typer.echo(f"{channel} {user_id} is not a worker", err=True)
        raise typer.Exit(1)
    typer.echo(f"{channel} {user_id} is now {result[1]}")
