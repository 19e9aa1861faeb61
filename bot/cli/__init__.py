"""The `buurtbot` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from bot.cli import activities as activities_cli
from bot.cli import broadcast as broadcast_cli
from bot.cli import dashboard as dashboard_cli
from bot.cli import db, flows, health, i18n, run
from bot.cli import demo as demo_cli
from bot.cli import export as export_cli
from bot.cli import outbox as outbox_cli
from bot.cli import report as report_cli
from bot.cli import workers as workers_cli
from bot.deployment import DeploymentError
from bot.flows.loader import FlowError
from bot.settings import SettingsError

app = typer.Typer(
    name="buurtbot",
    help="Buurtbot: a multilingual chatbot for resident participation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run.run_command)
app.command("chat")(run.chat_command)
app.command("health")(health.health_command)
app.add_typer(db.app, name="db")
app.add_typer(flows.app, name="flows")
app.add_typer(workers_cli.app, name="workers")
app.add_typer(activities_cli.app, name="activities")
app.command("broadcast")(broadcast_cli.broadcast_command)
app.add_typer(export_cli.app, name="export")
app.command("report")(report_cli.report_command)
app.add_typer(outbox_cli.app, name="outbox")
app.add_typer(i18n.app, name="i18n")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(dashboard_cli.app, name="dashboard")


def main() -> None:
    try:
        app()
    except FlowError as error:
        # A broken flow stops the start: say where, without a traceback.
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise SystemExit(1) from None
    except (DeploymentError, SettingsError) as error:
        # A setting or deployment file that cannot work: a line a problem (neighbourhoods
        # that share postcodes name both), a usage error.
        typer.echo(str(error), err=True)
        raise SystemExit(2) from None
