"""`buurtbot i18n`: the translation workflow (extract, update, compile, check).

buurtbot i18n extract    texts of the code and the flows -> locales/buurtbot.pot
buurtbot i18n update     .pot -> locales/<lang>/LC_MESSAGES/buurtbot.po (new: fuzzy/empty)
buurtbot i18n compile    .po -> .mo (optional: the bot compiles in memory at start-up)
buurtbot i18n check      coverage per language; exit 1 below 100% or on a broken entry
buurtbot i18n readability  Flesch-Douma and the longest sentence of each flow's Dutch text
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from bot.flows.check import check_folder
from bot.flows.model import Flow
from bot.i18n import workflow
from bot.i18n.catalogs import Catalogs
from bot.i18n.readability import LIMITS, readability
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


@app.command("readability")
def readability_command(
    path: Path = typer.Argument(None, help="A flow file or a folder (default: conversations/)."),
    root: Path = ROOT_OPTION,
) -> None:
    """The Flesch-Douma score and the longest sentence of every flow's Dutch text.

    Exit 1 when a resident flow scores under 70 or has a sentence over 15 words, or a
    worker flow under 60 or over 20 (docs/translating.md).
    """
    project = _project(root)
    folder = path or Settings().conversations_dir
    if not folder.exists():
        typer.echo(f"{folder}: no such file or folder", err=True)
        raise typer.Exit(2)
    loaded, problems = check_folder(folder)
    for problem in problems:
        typer.echo(str(problem), err=True)
    catalogs = Catalogs(project.locales, default="nl")
    failed = bool(problems)
    for item in sorted(loaded, key=lambda item: item.flow.id):
        flow = item.flow
        texts, untranslated = _dutch_texts(flow, catalogs)
        result = readability(texts)
        lowest, most = LIMITS.get(flow.role, LIMITS["resident"])
        mark = "OK  " if result.passes(flow.role) else "FAIL"
        failed |= not result.passes(flow.role)
        typer.echo(
            f"{mark} {flow.id:<18} {flow.role:<8} {result.score:5.1f} (>= {lowest:.0f})  "
            f"longest {len(result.longest)} words (<= {most}): {' '.join(result.longest)}"
        )
        if untranslated:
            typer.echo(f"       {untranslated} texts without Dutch translation not counted")
    if failed:
        raise typer.Exit(1)


def _dutch_texts(flow: Flow, catalogs: Catalogs) -> tuple[list[str], int]:
    """A flow's description and step texts in Dutch, and how many have no Dutch."""
    dutch = catalogs("nl")
    pairs = [(f"{flow.id}:description", flow.description)]
    pairs += [(step.msgctxt(flow.id), step.text) for step in flow.steps]
    texts, untranslated = [], 0
    for context, source in pairs:
        if not re.sub(r"\{[^{}]*\}", "", source).strip():
            continue  # nothing to read but what the bot fills in
        text = dutch.pgettext(context, source)
        if text == source and flow.language != "nl":
            untranslated += 1
            continue
        texts.append(text)
    return texts, untranslated
