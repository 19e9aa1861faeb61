"""`buurtbot demo seed` / `demo clear`: made-up data to try reports and the dashboard."""

from __future__ import annotations

import typer

from bot import demo
from bot.cli.export import open_database
from bot.deployment import load_deployment
from bot.flows.library import FlowLibrary
from bot.settings import Settings

app = typer.Typer(
    help="Made-up data to try reports, exports and the dashboard.", no_args_is_help=True
)


@app.command("seed")
def seed_command(
    people: int = typer.Option(1000, "--people", min=1, max=200_000, help="How many residents."),
    months: int = typer.Option(6, "--months", min=1, max=36, help="Over how many months."),
    seed_value: int = typer.Option(2026, "--seed", help="Another number gives other data."),
) -> None:
    """Fill an empty database with made-up residents, answers, activities and proposals."""
    settings = Settings()
    # The deployment first: outside the bot's folder, its one line says what to do.
    deployment = load_deployment(settings.deployment_file)
    library = FlowLibrary.load(settings.conversations_dir)
    engine = open_database(settings)
    try:
        with engine.begin() as connection:
            made = demo.seed(
                connection,
                library=library,
                deployment=deployment,
                languages=settings.language_list,
                people=people,
                months=months,
                seed_value=seed_value,
            )
    except demo.RealParticipants as error:
        typer.echo(
            f"This database has {error.args[0]} real participants: demo data would mix with "
            "theirs. Use an empty database (BUURTBOT_DATABASE_URL).",
            err=True,
        )
        raise typer.Exit(1) from None
    except demo.AlreadySeeded:
        typer.echo(
            "This database has demo data already: `buurtbot demo clear` removes it.", err=True
        )
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"{made.people} residents and {made.workers} workers (made up), {made.answers} answers, "
        f"{made.activities} activities with {made.invitations} invitations and {made.rsvps} "
        f"answers, {made.proposals} proposals, over {months} months."
    )
    typer.echo("Try: buurtbot report")


@app.command("clear")
def clear_command() -> None:
    """Delete exactly the demo data (real rows are never touched)."""
    settings = Settings()
    engine = open_database(settings)
    try:
        with engine.begin() as connection:
            people, activities = demo.clear(connection)
    finally:
        engine.dispose()
    typer.echo(
        f"Deleted {people} demo people (with all that was theirs) and {activities} activities."
    )
