"""`buurtbot outbox status [--batch ID]`: what the outbox holds, per kind and status."""

from __future__ import annotations

import asyncio

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from bot import outbox
from bot.cli import preflight
from bot.cli.activities import local_time
from bot.community.activities import parse_starts
from bot.delivery import retry
from bot.storage.db import Database
from bot.storage.models.outbox import STATUSES

app = typer.Typer(help="The delivery outbox.", no_args_is_help=True)


@app.command("status")
def status_command(
    batch: str = typer.Option(None, "--batch", help="Only this broadcast (its batch id)."),
    problems: int = typer.Option(5, "--problems", help="Show this many recent failures."),
) -> None:
    """Messages per kind and status (queued, sending, sent, failed, dead, ...)."""
    settings = preflight.settings()
    preflight.deployment(settings)
    preflight.database_exists(settings)
    counts, progress, latest = asyncio.run(_read(settings.database_url, batch, problems))
    if batch and progress is not None and progress.total == 0:
        typer.echo(f"no broadcast with batch id {batch}", err=True)
        raise typer.Exit(1)
    console = Console(highlight=False)
    title = f"Outbox, broadcast {batch}" if batch else "Outbox"
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
    )
    table.add_column("kind")
    for status in STATUSES:
        table.add_column(status, justify="right")
    table.add_column("total", justify="right")
    totals = dict.fromkeys(STATUSES, 0)
    for kind in sorted(counts):
        row = counts[kind]
        for status in STATUSES:
            totals[status] += row.get(status, 0)
        table.add_row(kind, *(str(row.get(s, 0)) for s in STATUSES), str(sum(row.values())))
    table.add_row(
        "all", *(str(totals[s]) for s in STATUSES), str(sum(totals.values())), style="bold"
    )
    console.print(table)
    if progress is not None:
        when = local_time(progress.next_due, settings.timezone)
        state = "done" if progress.done else f"{progress.pending} to go, next at {when}"
        console.print(f"Broadcast {batch}: {progress.sent} of {progress.total} sent; {state}")
    if latest:
        failures = Table(title="Recent failures", box=box.SIMPLE_HEAD, title_justify="left")
        for column in ("id", "kind", "status", "attempts", "queued at", "reason"):
            failures.add_column(column)
        for row in latest:
            failures.add_row(
                str(row.id),
                row.kind,
                row.status,
                str(row.attempts),
                local_time(row.created_at, settings.timezone),
                row.last_error or "",
            )
        console.print(failures)


@app.command("retry")
def retry_command(
    batch: str = typer.Option(None, "--batch", help="Only this broadcast (its batch id)."),
    since: str = typer.Option(
        None, "--since", help="Only rows queued at or after this ISO time (local)."
    ),
) -> None:
    """Put given-up (dead) messages back in the queue, e.g. after a long outage.

    Each gets a fresh attempt budget; rows that expired (a reply, an invitation to an
    activity that began) stay dead. `buurtbot run` sends them.
    """
    settings = preflight.settings()
    preflight.deployment(settings)
    start = None
    if since is not None:
        try:
            start = parse_starts(since, settings.timezone)
        except ValueError:
            preflight.refuse(f"--since: not an ISO date and time (like 2026-12-01T09:00): {since}")
    preflight.database_exists(settings)

    async def work() -> int:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                return await retry.requeue_dead(session, batch_id=batch, since=start)
        finally:
            await database.close()

    count = asyncio.run(work())
    typer.echo(f"{count} dead messages put back in the queue")
    typer.echo(str(count))


async def _read(url: str, batch: str | None, limit: int):
    database = Database(url)
    try:
        async with database.transaction() as session:
            counts = await outbox.status_counts(session, batch)
            progress = await outbox.broadcast_progress(session, batch) if batch else None
            latest = await outbox.problems(session, limit) if limit > 0 else []
        return counts, progress, latest
    finally:
        await database.close()
