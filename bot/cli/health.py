"""`buurtbot health`: is the `buurtbot run` of this data folder running, and working?

It also lists every process of the deployment (several `buurtbot run` on one
PostgreSQL database share the work): which are alive, which leads what, and when each
last wrote its heartbeat (`bot.storage.processes.overview`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import typer

from bot import health
from bot.settings import Settings
from bot.storage.db import Database, sqlite_file
from bot.storage.models import utcnow
from bot.storage.processes import ProcessState, overview


def health_command(
    stale_after: float = typer.Option(
        health.STALE_AFTER,
        "--stale-after",
        help="Seconds after which a heartbeat counts as missing.",
    ),
) -> None:
    """Read the heartbeat of `buurtbot run`; exit 0 only if it is fresh and all is well.

    For Docker's HEALTHCHECK or a monitoring system. Prints one line for the heartbeat
    and one for each part (telegram, signal, scheduler), then one line for each process
    of the deployment: alive or not, what it leads, its last heartbeat.
    """
    settings = Settings()
    ok, lines = health.check(settings.data_dir / health.FILE, stale_after)
    for line in lines:
        typer.echo(line)
    for line in _processes(settings.database_url, stale_after):
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)


def _processes(url: str, stale_after: float) -> list[str]:
    """Lines on the deployment's processes; one line saying why when it cannot tell."""
    path = sqlite_file(url)
    if path is not None and not Path(path).exists():
        return []  # no database here yet: nothing to list, and nothing to create
    try:
        states = asyncio.run(_read(url, stale_after))
    except Exception as error:  # no database yet, not migrated, unreachable
        return [f"processes: cannot be read ({type(error).__name__})"]
    alive = [state for state in states if state.alive]
    lines = [f"processes: {len(alive)} running"]
    now = utcnow()
    for state in alive + [s for s in states if not s.alive][:5]:
        lines.append(describe(state, now))
    return lines


def describe(state: ProcessState, now: datetime) -> str:
    """One process on one line, e.g. `process 3 on web-1 (pid 7): running, leads jobs; ...`."""
    beat = (now - state.heartbeat_at).total_seconds()
    if state.alive:
        leads = ", ".join(state.leads) if state.leads else "nothing"
        failing = [name for name, part in state.parts.items() if not part.get("ok")]
        said = f"running, leads {leads}; heartbeat {beat:.0f} s ago"
        if failing:
            said += "; NOT OK: " + ", ".join(sorted(failing))
    elif state.stopped_at is not None:
        said = f"stopped {(now - state.stopped_at).total_seconds():.0f} s ago"
    else:
        said = f"gone without stopping; last heartbeat {beat:.0f} s ago"
    return f"process {state.id} on {state.host} (pid {state.pid}): {said}"


async def _read(url: str, stale_after: float) -> list[ProcessState]:
    database = Database(url)
    try:
        return await overview(database, stale_after)
    finally:
        await database.close()
