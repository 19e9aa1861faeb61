"""`buurtbot flows`: check and list the conversation flows."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bot.flows.check import check_folder
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
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(loaded)} flows OK")


@app.command("list")
def list_command(
    path: Path = typer.Argument(None, help="A folder of flows (default: conversations/)."),
) -> None:
    """One line a flow: id, version, languages it is translated into."""
    settings = Settings()
    loaded, problems = check_folder(path or settings.conversations_dir)
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
