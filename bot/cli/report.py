"""`buurtbot report`: results per neighbourhood and flow, with charts, into a folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from bot.cli import preflight
from bot.cli.export import date_range, open_database
from bot.i18n.catalogs import Catalogs
from bot.reports.aggregate import Scope, aggregate
from bot.reports.periods import parse_compare
from bot.reports.report import write_report


def report_command(
    neighbourhood: list[str] = typer.Option(
        None, "--neighbourhood", help="Only these neighbourhoods (key; repeatable)."
    ),
    flow: str = typer.Option(None, "--flow", help="Only this flow (its id)."),
    age_group: str = typer.Option(
        None, "--age-group", help="Only the people of this age group, e.g. 18-27."
    ),
    output: Path = typer.Option(
        None, "--output", help="The folder to write (default: report-YYYY-MM-DD)."
    ),
    compare: str = typer.Option(
        None,
        "--compare",
        help="this-month (against last month), A..B (against the period before), or A..B,C..D.",
    ),
    since: str = typer.Option(None, "--since", help="Answers on or after DATE."),
    until: str = typer.Option(None, "--until", help="Answers on or before DATE."),
    language: str = typer.Option(
        None, "--language", help="Language of the report (default: BUURTBOT_DEFAULT_LANGUAGE)."
    ),
) -> None:
    """Aggregated results with charts; groups of fewer than 5 people are never shown."""
    settings = preflight.settings()
    zone = ZoneInfo(settings.timezone)
    period = date_range(since, until, settings.timezone)
    try:
        periods = parse_compare(compare, zone) if compare else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--compare") from None
    deployment = preflight.deployment(settings)
    unknown = [key for key in neighbourhood or [] if deployment.neighbourhood(key) is None]
    if unknown:
        known = ", ".join(n.key for n in deployment.neighbourhoods)
        raise typer.BadParameter(
            f"unknown neighbourhood {unknown[0]!r}; known: {known}", param_hint="--neighbourhood"
        )
    library = preflight.library_with_polls(settings)
    preflight.flow(library, flow)
    if age_group is not None:
        preflight.age_groups(library, [age_group])
    if language is not None:
        preflight.languages(settings, [language])
    code = language or settings.default_language
    translator = Catalogs(default=settings.default_language)(code)
    scope = Scope(
        neighbourhoods=tuple(neighbourhood) if neighbourhood else None,
        flow=flow or None,
        period=period,
        age_group=age_group,
    )
    engine = open_database(settings)
    try:
        with engine.connect() as connection:
            results = aggregate(
                connection,
                library=library,
                deployment=deployment,
                translator=translator,
                scope=scope,
                timezone=settings.timezone,
                compare=periods,
            )
    finally:
        engine.dispose()
    folder = output or Path(f"report-{datetime.now(zone):%Y-%m-%d}")
    title = translator.gettext("Results: {organisation}").format(
        organisation=deployment.organisation.name
    )
    written = write_report(results, folder, translator, title=title)
    charts = sum(1 for path in written if path.suffix == ".png")
    typer.echo(f"{len(results.flows)} flows, {charts} charts, {len(written)} files", err=True)
    typer.echo(str(folder / "report.md"))
