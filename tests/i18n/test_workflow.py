"""extract -> update -> check on a scratch copy: the translation workflow end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from typer.testing import CliRunner

from bot.cli import app
from bot.i18n import workflow

OLD = "What is good about your neighbourhood? What do you like?"
SIMILAR = "What is good about your neighbourhood? What do you like most?"
REWRITTEN = "Tell us one thing you love where you live."
CONTEXT = "what-matters:good"
runner = CliRunner()


def _entry(project: workflow.Project, language: str, msgid: str, context: str | None):
    catalog = workflow._read(project.po(language), language)
    return catalog.get(msgid, context=context)


def _rewrite_flow(project: workflow.Project, old: str, new: str) -> None:
    path = project.root / "conversations" / "what-matters.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _check(project: workflow.Project, *languages: str):
    arguments = ["i18n", "check", "--root", str(project.root)]
    for language in languages:
        arguments += ["--language", language]
    return runner.invoke(app, arguments)


def test_extract_twice_changes_nothing(project: workflow.Project) -> None:
    workflow.write_template(project)
    before = project.template.read_bytes()
    _, changed = workflow.write_template(project)
    assert not changed
    assert project.template.read_bytes() == before


@pytest.mark.parametrize("new", [SIMILAR, REWRITTEN])
def test_a_changed_sentence_keeps_its_translation_as_fuzzy(
    project: workflow.Project, new: str
) -> None:
    old_nl = _entry(project, "nl", OLD, CONTEXT).string
    old_tr = _entry(project, "tr", OLD, CONTEXT).string
    assert old_nl and old_nl != OLD

    _rewrite_flow(project, OLD, new)
    result = runner.invoke(app, ["i18n", "extract", "--root", str(project.root)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["i18n", "update", "--root", str(project.root), "-l", "nl", "-l", "tr"]
    )
    assert result.exit_code == 0, result.output
    assert "1 fuzzy" in result.output

    for language, old in (("nl", old_nl), ("tr", old_tr)):
        entry = _entry(project, language, new, CONTEXT)
        assert entry is not None
        assert entry.fuzzy
        assert entry.string == old  # kept for review, not lost
        assert entry.previous_id == [OLD]
        assert _entry(project, language, OLD, CONTEXT) is None
    text = project.po("nl").read_text(encoding="utf-8")
    assert f'#| msgid "{OLD}"' in text  # translators see what changed
    assert OLD not in text.split("#~")[-1] if "#~" in text else True

    result = _check(project, "nl")
    assert result.exit_code == 1
    assert "fuzzy" in result.output and CONTEXT in result.output


def test_the_source_language_follows_the_source(project: workflow.Project) -> None:
    _rewrite_flow(project, OLD, SIMILAR)
    workflow.write_template(project)
    workflow.update(project, ["en"])
    entry = _entry(project, "en", SIMILAR, CONTEXT)
    assert entry.string == SIMILAR and not entry.fuzzy


def test_check_passes_when_complete_and_fails_on_one_empty_text(
    project: workflow.Project,
) -> None:
    result = _check(project, "nl", "ar")
    assert result.exit_code == 0, result.output
    assert "OK   nl" in result.output and "100.0%" in result.output

    catalog = workflow._read(project.po("ar"), "ar")
    catalog.get(OLD, context=CONTEXT).string = ""
    project.po("ar").write_bytes(workflow._po_bytes(catalog))
    result = _check(project, "nl", "ar")
    assert result.exit_code == 1
    assert "OK   nl" in result.output
    assert "FAIL ar" in result.output and "untranslated" in result.output


def test_check_fails_on_a_wrong_placeholder(project: workflow.Project) -> None:
    catalog = workflow._read(project.po("tr"), "tr")
    entry = catalog.get("Read more: {url}")
    entry.string = "Daha fazlası: {adres}"
    project.po("tr").write_bytes(workflow._po_bytes(catalog))
    result = _check(project, "tr")
    assert result.exit_code == 1
    assert "error: placeholders" in result.output and "{adres}" in result.output


def test_check_fails_when_a_catalog_is_behind_the_sources(project: workflow.Project) -> None:
    _rewrite_flow(project, OLD, REWRITTEN)
    result = _check(project, "pl")  # no extract, no update
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert "not in the .po" in result.output


def test_check_fails_for_a_configured_language_without_catalog(
    project: workflow.Project,
) -> None:
    result = _check(project, "nl", "so")
    assert result.exit_code == 1
    assert "FAIL so" in result.output and "0.0%" in result.output


def test_update_creates_a_new_language_with_its_plural_forms(
    project: workflow.Project,
) -> None:
    workflow.write_template(project)
    results = workflow.update(project, ["ru"])
    assert results[0].created
    catalog = workflow._read(project.po("ru"), "ru")
    assert catalog.num_plurals == 3
    assert all(not workflow._filled(m) for m in catalog if m.id)


def test_compile_writes_mo_files(project: workflow.Project) -> None:
    result = runner.invoke(app, ["i18n", "compile", "--root", str(project.root), "-l", "nl"])
    assert result.exit_code == 0, result.output
    assert project.mo("nl").exists() and project.mo("nl").stat().st_size > 1000


@pytest.mark.parametrize(
    ("msgid", "string", "problem"),
    [
        ("Hello {name}", "Hallo {name}", ""),
        ("Hello {name}", "Hallo", "{name} missing"),
        ("Hello {name}", "Hallo {naam}", "unknown {naam}"),
        ("Hello {name}", "Hallo {name", "broken braces"),
        ("Hello {name}", "Hallo {}", "positional"),
        ("Hello", "Hallo }", "broken braces"),
        (("{n} day", "{n} days"), ("{n} dag", "{n} dagen"), ""),
        (("{n} day", "{n} days"), ("één dag", "{n} dagen"), ""),
        (("{n} day", "{n} days"), ("één dag", "meer dagen"), "missing in every plural form"),
        (("{n} day", "{n} days"), ("{n} dag", "{m} dagen"), "unknown {m}"),
    ],
)
def test_placeholder_rules(msgid: object, string: object, problem: str) -> None:
    catalog = Catalog(locale="nl")
    catalog.add(msgid, string)
    message = next(m for m in catalog if m.id)
    found = workflow.placeholder_errors(message)
    assert (problem in found) if problem else found == ""


def test_plural_forms_per_language() -> None:
    assert workflow.plural_forms("ar")[0] == 6
    assert workflow.plural_forms("pl")[0] == 3
    assert workflow.plural_forms("uk")[0] == 3
    assert workflow.plural_forms("tr") == (2, "(n != 1)")
    assert workflow.plural_forms("nl") == (2, "(n != 1)")
    assert workflow.plural_forms("en") == (2, "(n != 1)")


def test_project_defaults_point_at_this_checkout() -> None:
    project = workflow.Project()
    assert project.mapping == Path(__file__).resolve().parents[2] / "babel.cfg"
    assert project.template.name == "buurtbot.pot"
