"""`buurtbot activities`: make, list and cancel activities from the command line."""

from __future__ import annotations

import asyncio
import gettext
from datetime import datetime
from zoneinfo import ZoneInfo

import typer

from bot.app import build
from bot.cli import preflight
from bot.cli.workers import run_in_database
from bot.community import activities as community
from bot.community import audit, changes
from bot.community.activity_fields import check_activity
from bot.community.common import localised
from bot.storage.models.community import CANCELLED, Activity

app = typer.Typer(help="Neighbourhood activities.", no_args_is_help=True)


def local_time(moment: datetime | None, timezone: str) -> str:
    """A stored (UTC) time as the operator reads it: local, with its offset."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="minutes")


# The command line's option for each field of `activity_fields.check_activity`.
OPTIONS = {
    "title": "--title",
    "description": "--description",
    "starts": "--starts",
    "place": "--place",
    "neighbourhoods": "--neighbourhood",
    "age": "--age-group",
    "interests": "--interest",
    "capacity": "--capacity",
}


@app.command("add")
def add_command(
    title: str = typer.Option(..., "--title", help="What it is called."),
    starts: str = typer.Option(
        ..., "--starts", help="ISO date and time, e.g. 2026-12-12T14:00 (local time)."
    ),
    place: str = typer.Option(..., "--place", help="Where it is."),
    neighbourhood: list[str] = typer.Option(
        None, "--neighbourhood", "-n", help="A neighbourhood key; repeat for more. None: all."
    ),
    description: str = typer.Option("", "--description"),
    capacity: int = typer.Option(None, "--capacity", min=1, help="At most this many people."),
    age_group: list[str] = typer.Option(None, "--age-group", help="Who it is for, e.g. 12-17."),
    interest: list[str] = typer.Option(None, "--interest", help="e.g. sport, cooking."),
    language: list[str] = typer.Option(None, "--language", help="Languages people can use."),
) -> None:
    """Make an activity; prints its id alone on the last line."""
    settings = preflight.settings()
    deployment = preflight.deployment(settings)
    library = preflight.library(settings)
    keys = preflight.neighbourhoods(deployment, neighbourhood or [])
    ages = preflight.age_groups(library, age_group or [])
    wanted = preflight.interests(library, interest or [])
    spoken = preflight.languages(settings, language or [])
    # The same check as the chat and the dashboard, in the command line's English.
    checked = check_activity(
        gettext.NullTranslations(),
        settings=settings,
        deployment=deployment,
        allowed=None,
        title={"_": title},
        description={"_": description},
        starts=starts,
        place=place,
        neighbourhoods=keys,
        age_groups=ages,
        interests=wanted,
        library=library,
        capacity=capacity,
    )
    if checked.fields is None:
        name, message = next(iter(checked.problems.items()))
        preflight.refuse(f"{OPTIONS.get(name.split('_')[0], name)}: {message}")
    fields = checked.fields

    async def work(session):
        activity = await community.add_activity(
            session, audit.Actor.operator(), fields, languages=spoken
        )
        return activity.id

    activity_id = run_in_database(settings, work)
    typer.echo(f"Activity {title!r} at {local_time(fields.starts_at, settings.timezone)}:")
    typer.echo(str(activity_id))


@app.command("list")
def list_command() -> None:
    """Upcoming activities with who comes; times in BUURTBOT_TIMEZONE."""
    settings = preflight.settings()
    preflight.deployment(settings)
    preflight.database_exists(settings)

    async def work(session):
        found = await community.upcoming(
            session, statuses=(community.PLANNED, community.DRAFT), dated_only=False
        )
        numbers = await community.counts(session, [a.id for a in found])
        return [
            (
                a.id,
                local_time(a.starts_at, settings.timezone),
                a.status,
                ",".join(a.neighbourhoods) or "*",
                f"{numbers[a.id].going}/{a.capacity}" if a.capacity else numbers[a.id].going,
                numbers[a.id].maybe,
                numbers[a.id].not_going,
                numbers[a.id].waiting,
                numbers[a.id].invited,
                localised(a.title, settings.default_language),
            )
            for a in found
        ]

    rows = run_in_database(settings, work)
    if not rows:
        typer.echo("No upcoming activities. Make one with: buurtbot activities add")
        return
    header = ("id", "starts", "status", "where", "going", "maybe", "no", "waiting", "invited")
    typer.echo("\t".join((*header, "title")))
    for row in rows:
        typer.echo("\t".join(str(part) for part in row))


@app.command("cancel")
def cancel_command(activity_id: int = typer.Argument(..., help="The activity's id.")) -> None:
    """Call an activity off: who said going or maybe is told, queued invitations stop."""
    preflight.record(activity_id, "ID")
    settings = preflight.settings()
    preflight.deployment(settings)
    preflight.library(settings)
    preflight.database_exists(settings)
    app_ = build(settings, migrate=False)

    async def main() -> tuple[str, changes.Cancelled | None]:
        try:
            async with app_.database.transaction() as session:
                found = await session.get(Activity, activity_id)
                if found is None:
                    return "no activity with that id", None
                if found.status == CANCELLED:
                    return "it is already cancelled", None
                title = localised(found.title, settings.default_language)
                return title, await changes.cancel_activity(
                    session, app_.parts, found, actor=audit.Actor.operator()
                )
        finally:
            await app_.close()

    text, done = asyncio.run(main())
    if done is None:
        typer.echo(f"activity {activity_id}: {text}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"Cancelled {text!r}: {done.told} people told, {done.stopped} queued messages stopped."
    )
