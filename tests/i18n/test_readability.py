"""`buurtbot i18n readability`: plain Dutch in every flow, checked in CI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.i18n.readability import readability, sentences, syllables
from tests.i18n.conftest import ROOT

runner = CliRunner()

BUREAUCRATIC = (
    "Indien u niet in de gelegenheid bent om aan de bijeenkomst deel te nemen, verzoeken wij "
    "u vriendelijk dit tijdig kenbaar te maken aan de gemeentelijke organisatie."
)
PLAIN = "Kun je niet komen? Laat het ons dan weten. Dat is fijn."


def test_syllables_and_sentences() -> None:
    assert syllables("buurt") == 1
    assert syllables("activiteit") >= 4
    assert sentences("Hoi! Hoe gaat het?\nTyp {n} woorden") == [
        ["Hoi"],
        ["Hoe", "gaat", "het"],
        ["Typ", "dit", "woorden"],
    ]


def test_a_bureaucratic_sentence_fails_and_plain_words_pass() -> None:
    hard = readability([BUREAUCRATIC])
    assert hard.score < 60 and len(hard.longest) > 20
    assert not hard.passes("resident") and not hard.passes("worker")
    easy = readability([PLAIN])
    assert easy.score >= 70 and len(easy.longest) <= 15
    assert easy.passes("resident")


def test_the_shipped_flows_pass() -> None:
    result = runner.invoke(app, ["i18n", "readability", str(ROOT / "conversations")])
    assert result.exit_code == 0, result.output
    assert "OK   onboarding" in result.output and "resident" in result.output
    assert "OK   new-activity" in result.output and "worker" in result.output


def test_a_flow_in_officialese_fails(tmp_path: Path) -> None:
    flow = tmp_path / "brief.yaml"
    flow.write_text(
        "id: brief\nversion: 1\nlanguage: nl\ntitle: Brief\nsteps:\n"
        f"  - key: uitleg\n    kind: message\n    text: {BUREAUCRATIC}\n"
    )
    result = runner.invoke(app, ["i18n", "readability", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL brief" in result.output
    assert "42.0 (>= 70)  longest 27 words (<= 15)" in result.output


def test_a_missing_folder_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["i18n", "readability", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output
