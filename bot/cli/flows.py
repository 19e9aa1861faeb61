"""`buurtbot flows`: check, list and import the conversation flows."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bot.deployment import check_deployment
from bot.flows.check import check_folder
from bot.flows.importing import ExportError, import_file
from bot.i18n import workflow
from bot.i18n.catalogs import Catalogs
from bot.settings import Settings

app = typer.Typer(help="Conversation flows.", no_args_is_help=True)


@app.command("check")
def check_command(
    path: Path = typer.Argument(None, help="A flow file or a folder (default: conversations/)."),
) -> None:
    """Validate flows; every problem is printed as file:line: message, exit 1 on any."""
    folder = path or Settings().conversations_dir
    if not folder.exists():
        typer.echo(f"{folder}: no such file or folder", err=True)
        raise typer.Exit(1)
    loaded, problems = check_folder(folder)
    for problem in problems:
        typer.echo(str(problem))
    # The deployment's neighbourhoods are every neighbourhood question's options.
    deployment_problems = check_deployment(Settings().deployment_file)
    for line in deployment_problems:
        typer.echo(line)
    if problems or deployment_problems:
        raise typer.Exit(1)
    typer.echo(f"{len(loaded)} flows OK")


@app.command("list")
def list_command(
    path: Path = typer.Argument(None, help="A folder of flows (default: conversations/)."),
) -> None:
    """One line a flow: id, version, languages it is translated into."""
    settings = Settings()
    folder = path or settings.conversations_dir
    if not folder.exists():
        typer.echo(f"{folder}: no such folder, nothing to work on here", err=True)
        raise typer.Exit(1)
    loaded, problems = check_folder(folder)
    catalogs = Catalogs(default=settings.default_language)
    console = Console(highlight=False)
    for item in loaded:
        flow = item.flow
        languages = [flow.language] + [
            code
            for code in settings.language_list
            if code != flow.language and _translated(catalogs, code, flow.id, flow.title)
        ]
        console.print(f"{flow.id}\tv{flow.version}\t{','.join(languages)}")
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)


def _translated(catalogs: Catalogs, code: str, flow_id: str, title: str) -> bool:
    return catalogs(code).pgettext(f"{flow_id}:title", title) != title


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A RapidPro, TextIt or goflow export (JSON)."),
    into: Path = typer.Option(
        None, "--into", help="Where to write the flows (default: the conversations folder)."
    ),
) -> None:
    """Import the messaging flows of a RapidPro / TextIt / U-Report export.

    One YAML flow a messaging flow, its translations into the catalogs; a line for
    everything not carried over. Exit 1 when no flow could be imported.
    """
    settings = Settings()
    folder = into or settings.conversations_dir
    if folder.exists() and not folder.is_dir():
        typer.echo(f"--into: {folder} is a file, not a folder", err=True)
        raise typer.Exit(2)
    try:
        outcome = import_file(file, folder, workflow.Project(), settings.language_list)
    except ExportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except OSError as error:
        typer.echo(f"{error.filename or folder}: cannot write ({error.strerror})", err=True)
        raise typer.Exit(1) from None
    for line in outcome.lines:
        typer.echo(line)
    for flow_id in outcome.imported:
        typer.echo(f"imported {flow_id}")
    if not outcome.imported:
        typer.echo(f"{file}: no flow could be imported", err=True)
        raise typer.Exit(1)
    if outcome.written is not None:
        done = ", ".join(f"{code} {n}" for code, n in sorted(outcome.written.filled.items()))
        typer.echo(f"translations filled in: {done or 'none'}; see `buurtbot i18n check`")
        if outcome.written.not_offered:
            shown = ", ".join(outcome.written.not_offered)
            typer.echo(f"kept in the catalogs, not offered (BUURTBOT_LANGUAGES): {shown}")
    elif outcome.translations_skipped:
        typer.echo(
            f"translations not written: {folder} is not the conversations folder "
            "`buurtbot i18n extract` reads"
        )
