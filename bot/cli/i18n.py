"""`buurtbot i18n`: the translation workflow (extract, update, compile, check).

buurtbot i18n extract    texts of the code and the flows -> locales/buurtbot.pot
buurtbot i18n update     .pot -> locales/<lang>/LC_MESSAGES/buurtbot.po (new: fuzzy/empty)
buurtbot i18n compile    .po -> .mo (optional: the bot compiles in memory at start-up)
buurtbot i18n check      coverage per language; exit 1 below 100% or on a broken entry
"""

from __future__ import annotations

from pathlib import Path

import typer

from bot.i18n import workflow
from bot.settings import Settings

app = typer.Typer(help="Translations: extract, update, compile, check.", no_args_is_help=True)

ROOT_OPTION = typer.Option(
    None, "--root", help="The checkout with babel.cfg and locales/ (default: this one)."
)
LANGUAGE_OPTION = typer.Option(
    None, "--language", "-l", help="Only this language (repeatable). Default: all."
)


def _project(root: Path | None) -> workflow.Project:
    return workflow.Project(root=root.resolve()) if root else workflow.Project()


def _configured() -> list[str]:
    return Settings().language_list


def _relative(path: Path, project: workflow.Project) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)


@app.command("extract")
def extract_command(root: Path = ROOT_OPTION) -> None:
    """Collect every text of the bot and its flows into locales/buurtbot.pot."""
    project = _project(root)
    if not project.mapping.exists():
        typer.echo(f"{project.mapping}: not found", err=True)
        raise typer.Exit(1)
    catalog, changed = workflow.write_template(project)
    count = sum(1 for message in catalog if message.id)
    state = "written" if changed else "unchanged"
    typer.echo(f"{_relative(project.template, project)}: {count} messages ({state})")


@app.command("update")
def update_command(
    languages: list[str] = LANGUAGE_OPTION,
    drop_obsolete: bool = typer.Option(
        False, "--drop-obsolete", help="Remove translations no text uses any more (#~)."
    ),
    root: Path = ROOT_OPTION,
) -> None:
    """Merge locales/buurtbot.pot into each language's .po; a changed text becomes fuzzy.

    Languages from BUURTBOT_LANGUAGES without a catalog get one.
    """
    project = _project(root)
    if not project.template.exists():
        typer.echo(f"{project.template}: not found; run `buurtbot i18n extract` first", err=True)
        raise typer.Exit(1)
    chosen = languages or sorted(set(project.languages()) | set(_configured()))
    for result in workflow.update(project, chosen, drop_obsolete=drop_obsolete):
        what = "created" if result.created else ("updated" if result.changed else "unchanged")
        todo = result.fuzzy + result.untranslated
        typer.echo(
            f"{result.language}: {what}; {result.new} new, {result.fuzzy} fuzzy, "
            f"{result.untranslated} untranslated, {result.obsolete} obsolete"
            + (f" -> {todo} to translate" if todo else "")
        )


@app.command("compile")
def compile_command(languages: list[str] = LANGUAGE_OPTION, root: Path = ROOT_OPTION) -> None:
    """Write the .mo files (fuzzy translations left out)."""
    project = _project(root)
    failed = False
    for result in workflow.compile_catalogs(project, languages or project.languages()):
        typer.echo(
            f"{result.language}: {_relative(result.path, project)} "
            f"({result.translated} of {result.total} translated)"
        )
        for error in result.errors:
            typer.echo(f"  {error}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command("check")
def check_command(
    languages: list[str] = LANGUAGE_OPTION,
    required: float = typer.Option(100.0, "--required", help="Coverage a language needs (%)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every missing text."),
    root: Path = ROOT_OPTION,
) -> None:
    """Coverage per language (BUURTBOT_LANGUAGES); exit 1 below --required or on errors.

    Missing, empty and fuzzy translations count as missing; a translation whose
    {placeholders} differ from the source text is an error.
    """
    project = _project(root)
    report = workflow.check(project, languages or _configured())
    template = _relative(project.template, project)
    if report.template_missing:
        typer.echo(f"{template}: missing; run `buurtbot i18n extract`")
    elif report.template_stale:
        typer.echo(
            f"{template}: out of date ({len(report.template_added)} new, "
            f"{len(report.template_removed)} removed texts); run "
            "`buurtbot i18n extract && buurtbot i18n update`"
        )
        for msgid, context in report.template_added[: None if verbose else 5]:
            typer.echo(f"  new: {f'[{context}] ' if context else ''}{msgid!r}")
    for coverage in report.coverage:
        mark = "OK  " if coverage.percent >= required and not coverage.errors else "FAIL"
        note = (
            "" if coverage.exists else f"  (no {_relative(project.po(coverage.language), project)})"
        )
        typer.echo(
            f"{mark} {coverage.language:<6} {coverage.percent:6.1f}%  "
            f"{coverage.translated}/{coverage.total}{note}"
        )
        for problem in coverage.errors:
            typer.echo(f"       error: {problem}")
        shown = coverage.missing if verbose else coverage.missing[:5]
        if coverage.exists:
            for problem in shown:
                typer.echo(f"       {problem}")
            if len(coverage.missing) > len(shown):
                typer.echo(f"       ... and {len(coverage.missing) - len(shown)} more (-v)")
    if not report.passed(required):
        raise typer.Exit(1)
