"""`buurtbot i18n check` finds what a reviewer would: commands, glossary, register, direction."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Message
from typer.testing import CliRunner

from bot.cli import app
from bot.i18n import workflow
from bot.i18n.review import command_errors, glossary_errors, load_glossary, review_errors
from tests.i18n.conftest import ROOT, copy_project

GLOSSARY = load_glossary(ROOT / "locales" / "glossary.yaml")


@pytest.mark.parametrize(
    ("english", "translation", "problem"),
    [
        ("Type /stop to stop.", "Typ /stop om te stoppen.", ""),
        ("Type /stop to stop.", "Typ stop om te stoppen.", "/stop missing"),
        ("Type /stop to stop.", "Typ /stoppen om te stoppen.", "/stop missing"),
        ("Type /help.", "Typ /help of /start.", "/start not in the English"),
        ("Read: https://x.org/a/b", "Lees: https://x.org/a/b", ""),  # a link is no command
    ],
)
def test_commands_are_kept(english: str, translation: str, problem: str) -> None:
    found = command_errors(Message(english, translation))
    assert (problem in found) if problem else found == ""


def test_commands_in_every_plural_form() -> None:
    message = Message(
        ("Type /invite for {n} person", "Type /invite for {n} people"),
        ("Typ /invite voor {n} persoon", "Typ invite voor {n} mensen"),
    )
    assert "/invite missing" in command_errors(message)


@pytest.mark.parametrize(
    ("language", "english", "translation", "problem"),
    [
        ("nl", "A community worker calls me", "Een buurtwerker belt me", ""),
        ("nl", "A community worker calls me", "Een opbouwwerker belt me", "avoid"),
        ("nl", "Hello", "Jij bent buurtwerker, geen opbouwwerker.", "avoid"),
        ("nl", "Approved.", "Goedgekeurd, met de jongere als mede-organisator.", "avoid"),
        ("nl", "Sorry, only community workers can do that.", "Dat mag alleen de wijkagent.", "use"),
        ("nl", "Type your answer.", "Typ uw antwoord.", "register"),
        ("ar", "A community worker calls me", "يتصل بي أحد العاملين المجتمعيين", ""),
        ("ar", "A community worker calls me", "يتصل بي عامل اجتماعي", "avoid"),
        ("pl", "A community worker calls me", "Pracownik społeczny zadzwoni", ""),
        ("pl", "A community worker calls me", "Pracownik dzielnicy zadzwoni", "avoid"),
        ("uk", "waiting list: {n}", "список очікування: {n}", ""),
        ("uk", "waiting list: {n}", "лист очікування: {n}", "avoid"),  # a calque
        ("uk", "Type your answer.", "Напиши, що ти думаєш.", "register"),
        ("tr", "Invite residents", "Mahalle sakinlerini davet et", ""),
        ("tr", "Invite residents", "Komşuları davet et", "use"),
        ("en", "A community worker calls me", "A community worker calls me", ""),
    ],
)
def test_glossary_and_register(language: str, english: str, translation: str, problem: str) -> None:
    found = glossary_errors(Message(english, translation), language, GLOSSARY)
    assert (problem in found) if problem else found == "", found


def test_glossary_words_match_without_accents_and_vowel_marks() -> None:
    message = Message("Invite residents", "MAHALLE SAKİNLERİNİ davet et")
    assert glossary_errors(message, "tr", GLOSSARY) == ""
    message = Message("Another community worker answered.", "ردّ عاملٌ مجتمعيٌّ آخر.")
    assert glossary_errors(message, "ar", GLOSSARY) == ""


def test_word_lists_are_not_prose() -> None:
    words = Message("stop, unsubscribe", "stop, u, uw", context="keywords for /stop")
    assert review_errors(words, "nl", GLOSSARY) == ("", "")


def test_check_reports_what_a_reviewer_would(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    catalog = workflow._read(project.po("nl"), "nl")
    catalog.get("/stop – get no more messages").string = "stop – geen berichten meer"
    catalog.get(
        "Another community worker already answered this idea."
    ).string = "Een andere opbouwwerker heeft dit idee al beantwoord."
    project.po("nl").write_bytes(workflow._po_bytes(catalog))
    result = CliRunner().invoke(
        app, ["i18n", "check", "--root", str(project.root), "--language", "nl"]
    )
    assert result.exit_code == 1
    assert "error: commands: /stop missing" in result.output
    assert "error: glossary: avoid 'opbouwwerker'" in result.output


def test_the_shipped_catalogs_pass_the_review() -> None:
    project = workflow.Project(root=ROOT)
    glossary = load_glossary(project.glossary)
    for language in ("nl", "tr", "ar", "pl", "uk"):
        catalog = workflow._read(project.po(language), language)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                assert review_errors(message, language, glossary) == ("", ""), message.id
