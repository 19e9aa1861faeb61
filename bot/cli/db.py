"""`buurtbot db`: the database schema."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.cli import preflight
from bot.storage.migrate import upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply all migrations to the database in BUURTBOT_DATABASE_URL."""
    settings = preflight.settings()
    preflight.deployment(settings)  # not in the bot's folder: no stray database
    upgrade(settings.database_url)
    Console().print("Database is up to date.")
