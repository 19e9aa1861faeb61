"""`buurtbot dashboard link`: the contract (a URL alone on the last line) and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.postgres


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "BUURTBOT_DATABASE_URL": database_url,
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
        "BUURTBOT_SECRET_KEY": "cli-test",
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_CONVERSATIONS_DIR": str(ROOT / "conversations"),
        "BUURTBOT_PUBLIC_URL": "https://buurt.example/dash/",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_the_operators_link_is_alone_on_the_last_line(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["dashboard", "link", "--admin"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"https://buurt\.example/dash/login/[A-Za-z0-9_-]{43}", last), last


def test_a_workers_link_and_someone_who_is_no_worker(env: dict[str, str]) -> None:
    runner = CliRunner()
    granted = runner.invoke(app, ["workers", "grant", "--channel", "telegram", "--user-id", "77"])
    assert granted.exit_code == 0, granted.output
    result = runner.invoke(app, ["dashboard", "link", "--channel", "telegram", "--user-id", "77"])
    assert result.exit_code == 0, result.output
    assert "/login/" in result.output.strip().splitlines()[-1]
    stranger = runner.invoke(app, ["dashboard", "link", "--channel", "telegram", "--user-id", "78"])
    assert stranger.exit_code == 1
    assert "not a community worker" in stranger.output


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--admin", "--channel", "telegram", "--user-id", "1"],
        ["--channel", "telegram"],
        ["--user-id", "1"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(env: dict[str, str], args: list[str]) -> None:
    result = CliRunner().invoke(app, ["dashboard", "link", *args])
    assert result.exit_code == 2, result.output
    assert "/login/" not in result.output
