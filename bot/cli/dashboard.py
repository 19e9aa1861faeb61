"""`buurtbot dashboard link`: a single-use login link for the coordinators' dashboard."""

from __future__ import annotations

import typer

from bot.cli.workers import run_in_database
from bot.community.logins import create_link, login_url
from bot.settings import Settings
from bot.storage import participants

app = typer.Typer(help="The coordinators' web dashboard.", no_args_is_help=True)


@app.command("link")
def link_command(
    channel: str = typer.Option(None, "--channel", help="telegram, signal or terminal."),
    user_id: str = typer.Option(None, "--user-id", help="The worker's id on that channel."),
    admin: bool = typer.Option(False, "--admin", help="For the operator: every neighbourhood."),
) -> None:
    """Print a login URL (alone on the last line), valid 15 minutes, once."""
    if admin == bool(channel or user_id):
        typer.echo("give either --channel and --user-id (a worker), or --admin", err=True)
        raise typer.Exit(2)
    if not admin and not (channel and user_id):
        typer.echo("--channel and --user-id go together", err=True)
        raise typer.Exit(2)
    settings = Settings()
    if not settings.dashboard_listen.strip():
        typer.echo(
            "note: BUURTBOT_DASHBOARD_LISTEN is empty, so `buurtbot run` serves no dashboard",
            err=True,
        )

    async def work(session):
        if admin:
            return await create_link(session, settings.secret, admin=True), "the operator"
        person = await participants.get(session, channel, user_id)
        if person is None:
            return None, f"{channel} {user_id}"
        return await create_link(session, settings.secret, person), f"{channel} {user_id}"

    token, who = run_in_database(settings, work)
    if token is None:
        typer.echo(f"{who} is not a community worker (buurtbot workers list)", err=True)
        raise typer.Exit(1)
    typer.echo(f"Dashboard login for {who}: works once, within 15 minutes.")
    typer.echo(login_url(settings.public_url, token))
