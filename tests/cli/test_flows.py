"""`buurtbot flows check`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.flows.check import check_folder
from tests.flows.test_check import LOOP, write


def test_cli_prints_file_line_and_exits_1(tmp_path: Path) -> None:
    write(tmp_path, "loop.yaml", LOOP)
    result = CliRunner().invoke(app, ["flows", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'loop.yaml'}:13: step 'orphan' can never be reached" in result.output


def test_shipped_flows_are_valid() -> None:
    root = Path(__file__).resolve().parents[2] / "conversations"
    loaded, problems = check_folder(root)
    assert problems == []
    assert {"onboarding", "what-matters", "language", "forget"} <= {f.flow.id for f in loaded}
    result = CliRunner().invoke(app, ["flows", "check", str(root)])
    assert result.exit_code == 0, result.output
