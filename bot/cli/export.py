"""`buurtbot export answers`: the pseudonymous export of answers, CSV or XLSX."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import Engine, create_engine, inspect

from bot.cli import preflight
from bot.flows.labels import Labels
from bot.i18n.catalogs import Catalogs
from bot.reports.export import FORMATS, Filter, export, flows_in
from bot.reports.periods import Period, between, parse_date
from bot.settings import Settings
from bot.storage.db import HIDE_PARAMETERS, configure, sync_url

app = typer.Typer(help="Exports for analysts (pseudonymous).", no_args_is_help=True)


def open_database(settings: Settings) -> Engine:
    """A sync engine on the configured database; exit 1 when it has no tables yet."""
    preflight.database_exists(settings)
    engine = create_engine(sync_url(settings.database_url), **HIDE_PARAMETERS)
    configure(engine)
    with engine.connect() as connection:
        if "answers" not in inspect(connection).get_table_names():
            engine.dispose()
            typer.echo("The database has no tables yet: run `buurtbot db upgrade`.", err=True)
            raise typer.Exit(1)
    return engine


def date_range(since: str | None, until: str | None, timezone: str) -> Period:
    """--since/--until as local dates (both inclusive); exit 2 on a bad date."""
    try:
        first = parse_date(since) if since else None
        last = parse_date(until) if until else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    return between(first, last, ZoneInfo(timezone))


@app.command("answers")
def answers_command(
    flow: str = typer.Option(None, "--flow", help="Only this flow (its id)."),
    neighbourhood: list[str] = typer.Option(
        None, "--neighbourhood", help="Only these neighbourhoods (key; repeatable)."
    ),
    since: str = typer.Option(None, "--since", help="Runs started on or after DATE."),
    until: str = typer.Option(None, "--until", help="Runs started on or before DATE."),
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx."),
    output: Path = typer.Option(
        None, "--output", help="A file, or a folder for a file a flow (default: standard output)."
    ),
    free_text: bool = typer.Option(
        True, "--free-text/--no-free-text", help="Include free-text answers (redacted)."
    ),
    labels: bool = typer.Option(
        False, "--labels", help="Options as their labels (in --language) instead of codes."
    ),
    excel: bool = typer.Option(
        False, "--excel", help="CSV for Excel in Dutch: ';', UTF-8 with BOM, decimal comma."
    ),
    language: str = typer.Option(
        None, "--language", help="Language of --labels (default: BUURTBOT_DEFAULT_LANGUAGE)."
    ),
) -> None:
    """One row per participant and flow run, with a pseudonym instead of any id.

    XLSX has a sheet a flow and a codebook sheet (questions, codes and labels in Dutch
    and English). --output DIR (a folder, or a name without .csv or .xlsx) writes a file
    a flow.
    """
    if fmt not in FORMATS:
        raise typer.BadParameter("choose csv or xlsx", param_hint="--format")
    settings = preflight.settings()
    deployment = preflight.deployment(settings)
    period = date_range(since, until, settings.timezone)
    library = preflight.library_with_polls(settings)
    preflight.flow(library, flow)
    preflight.neighbourhoods(deployment, neighbourhood or [])
    if language is not None:
        preflight.languages(settings, [language])
    neighbourhoods = tuple(neighbourhood) if neighbourhood else None
    flt = Filter(flow or None, neighbourhoods, period.since, period.until)
    catalogs = Catalogs(default=settings.default_language)

    def book(code: str) -> Labels:
        return Labels(library, deployment, catalogs(code))

    options = {
        "fmt": fmt,
        "library": library,
        "secret": settings.secret,
        "timezone": settings.timezone,
        "flt": flt,
        "free_text": free_text,
        "labels": book(language or settings.default_language) if labels else None,
        "books": [(code, book(code)) for code in ("nl", "en")],
        "excel": excel,
    }
    folder = output is not None and (output.is_dir() or not output.suffix)
    engine = open_database(settings)
    try:
        with engine.connect() as connection:
            if folder and output is not None:
                output.mkdir(parents=True, exist_ok=True)
                count = 0
                flow_ids = flows_in(connection, library, flt)
                for flow_id in flow_ids:
                    path = output / f"answers-{flow_id}.{fmt}"
                    count += export(
                        connection, path, **{**options, "flt": replace(flt, flow=flow_id)}
                    )
                    typer.echo(str(path), err=True)
            elif output is not None:
                count = export(connection, output, **options)
            elif fmt == "csv":
                stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
                try:
                    count = export(connection, stream, **options)
                    stream.flush()
                finally:
                    stream.detach()
            else:
                if sys.stdout.isatty():
                    typer.echo("XLSX is binary: give --output FILE, or redirect.", err=True)
                    raise typer.Exit(2)
                with tempfile.TemporaryFile() as spool:
                    count = export(connection, spool, **options)
                    spool.seek(0)
                    shutil.copyfileobj(spool, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
    finally:
        engine.dispose()
    typer.echo(f"{count} rows", err=True)
