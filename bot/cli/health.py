"""`buurtbot health`: is the `buurtbot run` of this data folder running, and working?"""

from __future__ import annotations

import typer

from bot import health
from bot.settings import Settings


def health_command(
    stale_after: float = typer.Option(
        health.STALE_AFTER,
        "--stale-after",
        help="Seconds after which a heartbeat counts as missing.",
    ),
) -> None:
    """Read the heartbeat of `buurtbot run`; exit 0 only if it is fresh and all is well.

    For Docker's HEALTHCHECK or a monitoring system. Prints one line for the heartbeat
    and one for each part (telegram, signal, scheduler).
    """
    ok, lines = health.check(Settings().data_dir / health.FILE, stale_after)
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)
