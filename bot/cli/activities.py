"""`buurtbot activities`: make and list activities from the command line."""

from __future__ import annotations

import typer

from bot.cli.workers import check_neighbourhoods, run_in_database
from bot.community import activities as community
from bot.community.common import localised
from bot.settings import Settings

app = typer.Typer(help="Neighbourhood activities.", no_args_is_help=True)


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
    settings = Settings()
    keys = check_neighbourhoods(settings, neighbourhood or [])
    try:
        starts_at = community.parse_starts(starts, settings.timezone)
    except ValueError:
        typer.echo(f"--starts: not an ISO date and time: {starts!r}", err=True)
        raise typer.Exit(2) from None

    async def work(session):
        activity = await community.create_activity(
            session,
            title=title,
            description=description,
            starts_at=starts_at,
            place=place,
            neighbourhoods=keys,
            age_groups=age_group or [],
            interests=interest or [],
            languages=language or [],
            capacity=capacity,
        )
        return activity.id

    activity_id = run_in_database(settings, work)
    typer.echo(f"Activity {title!r} at {starts_at.isoformat()}:")
    typer.echo(str(activity_id))


@app.command("list")
def list_command() -> None:
    """Upcoming activities: id, start (UTC), status, neighbourhoods, title."""
    settings = Settings()

    async def work(session):
        found = await community.upcoming(
            session, statuses=(community.PLANNED, community.DRAFT), dated_only=False
        )
        return [
            (
                a.id,
                a.starts_at.isoformat() if a.starts_at else "-",
                a.status,
                ",".join(a.neighbourhoods) or "*",
                localised(a.title, settings.default_language),
            )
            for a in found
        ]

    for row in run_in_database(settings, work):
        typer.echo("\t".join(str(part) for part in row))
