"""`buurtbot broadcast`: queue an activity's invitation for a chosen audience."""

from __future__ import annotations

import asyncio

import typer

from bot.app import build
from bot.cli.workers import check_neighbourhoods
from bot.community import activities, invitations
from bot.storage.models import utcnow
from bot.storage.models.community import Activity


def broadcast_command(
    activity: int = typer.Option(..., "--activity", help="The activity's id."),
    neighbourhood: list[str] = typer.Option(None, "--neighbourhood", "-n", help="Repeatable."),
    age_group: list[str] = typer.Option(None, "--age-group", help="e.g. 12-17; repeatable."),
    interest: list[str] = typer.Option(None, "--interest", help="e.g. sport; repeatable."),
    language: list[str] = typer.Option(None, "--language", help="e.g. tr; repeatable."),
    past: bool = typer.Option(False, "--past-participants", help="Only people who came before."),
    at: str = typer.Option(None, "--at", help="Send at this ISO time (local) instead of now."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; queue nothing."),
) -> None:
    """Queue the invitation for matching, consenting, not opted-out participants.

    Each person is invited once per activity. Prints the count alone on the last line;
    the running `buurtbot run` sends them (after quiet hours).
    """
    app = build()
    settings = app.settings
    keys = check_neighbourhoods(settings, neighbourhood or [])
    due = None
    if at:
        try:
            due = activities.parse_starts(at, settings.timezone)
        except ValueError:
            typer.echo(f"--at: not an ISO date and time: {at!r}", err=True)
            raise typer.Exit(2) from None
    audience = invitations.Audience.of(keys, age_group or [], interest or [], language or [], past)

    async def main() -> tuple[int, dict[str, int]]:
        try:
            async with app.database.transaction() as session:
                found = await session.get(Activity, activity)
                if found is None or found.starts_at is None or found.starts_at < utcnow():
                    return -1, {}
                people = await invitations.select_audience(session, audience, activity_id=found.id)
                per_language = dict(invitations.reach(people, settings.default_language))
                if dry_run:
                    return len(people), per_language
                queued, _ = await invitations.queue_invitations(
                    session, app.service, found, people, due_at=due
                )
                return queued, per_language
        finally:
            await app.close()

    count, per_language = asyncio.run(main())
    if count < 0:
        typer.echo(f"no upcoming activity with id {activity}", err=True)
        raise typer.Exit(1)
    languages = ", ".join(f"{code} {n}" for code, n in sorted(per_language.items()))
    verb = "would be queued" if dry_run else "queued"
    typer.echo(f"{count} invitations {verb}" + (f" ({languages})" if languages else ""))
    typer.echo(str(count))
