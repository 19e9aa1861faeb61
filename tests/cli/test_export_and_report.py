"""`buurtbot export answers` and `buurtbot report` from the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.reports.export import FIXED
from tests.conftest import ROOT
from tests.reports.seed import SMALL, phone_like, seed


@pytest.fixture
def env(db_url: str, flows_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    values = {
        "BUURTBOT_DATABASE_URL": db_url,
        "BUURTBOT_SECRET_KEY": "cli-secret",
        "BUURTBOT_CONVERSATIONS_DIR": str(flows_dir),
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return seed(db_url, participants=60, small=3)


def test_export_answers_csv_to_stdout(env) -> None:
    result = CliRunner().invoke(
        app, ["export", "answers", "--flow", "what-matters", "--neighbourhood", "centrum"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][: len(FIXED)] == list(FIXED) and "want_to_do" in rows[0]
    assert len(rows) > 5 and {r[4] for r in rows[1:]} == {"centrum"}
    assert f"{len(rows) - 1} rows" in result.stderr
    for user_id in env.user_ids:
        assert user_id not in result.stdout
    assert phone_like(result.stdout) == []


def test_export_answers_xlsx_to_a_file(env, tmp_path: Path) -> None:
    target = tmp_path / "answers.xlsx"
    result = CliRunner().invoke(
        app,
        ["export", "answers", "--format", "xlsx", "--output", str(target), "--since", "2000-01-01"],
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(target, read_only=True)
    assert book.sheetnames[-1] == "codebook"
    sheet = book.worksheets[0]
    header = next(sheet.iter_rows(values_only=True))
    assert list(header[: len(FIXED)]) == list(FIXED)


def test_export_refuses_a_bad_format_or_date(env) -> None:
    assert CliRunner().invoke(app, ["export", "answers", "--format", "pdf"]).exit_code == 2
    assert CliRunner().invoke(app, ["export", "answers", "--since", "yesterday"]).exit_code == 2


def _counts(markdown: str) -> list[str]:
    """The numbers in the markdown tables (the first column, the labels, left out)."""
    cells = []
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells += [c.strip() for c in line.strip("|").split("|")[1:]]
    return [c for c in cells if c.isdigit()]


def test_report_in_dutch(env, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--output", str(tmp_path / "nl")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nl" / "report.md").read_text(encoding="utf-8").startswith("# ")


def test_report_writes_a_folder(env, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["report", "--output", str(folder), "--compare", "this-month", "--language", "en"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(folder / "report.md")
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "# Results: Welzijn Almelo" in text and "fewer than 5" in text
    assert list(folder.glob("*.png")) and list((folder / "tables").glob("*.csv"))


def test_report_for_one_neighbourhood_and_flow(env, tmp_path: Path) -> None:
    folder = tmp_path / "small"
    result = CliRunner().invoke(
        app,
        [
            *("report", "--neighbourhood", SMALL, "--flow", "what-matters"),
            *("--output", str(folder), "--language", "en"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "fewer than 5" in text and "What matters to you" in text and "Welcome" not in text
    # Three people: every number in every table is "fewer than 5" (or a plain 0).
    assert set(_counts(text)) <= {"0"}
    bad = CliRunner().invoke(app, ["report", "--neighbourhood", "atlantis"])
    assert bad.exit_code == 2


def test_export_a_file_a_flow_into_a_folder(env, tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    result = CliRunner().invoke(
        app, ["export", "answers", "--excel", "--labels", "--output", str(folder)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert "answers-what-matters.csv" in names and "answers-onboarding.csv" in names
    text = (folder / "answers-onboarding.csv").read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert "age_group" in header and "want_to_do" not in header  # its own columns
    assert "tot en met" in text and "12-17" not in text  # labels, in Dutch
