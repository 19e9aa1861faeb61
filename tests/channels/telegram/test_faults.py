"""Faults leave no personal data behind: when the database refuses a write while a
resident writes, the log, `health.json` and `buurtbot health` name the error by its
kind and table, never the resident's words or chat id (PostgreSQL's "Failing row
contains" and SQLAlchemy's parameters included). Nothing is lost: once the database
takes writes again, the message is handled."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.app import App
from bot.channels.telegram import TelegramChannel, polling
from bot.cli import app as cli_app
from bot.health import FILE, Heartbeat, check
from tests.channels.telegram.conftest import onboard, stored_answers
from tests.fakes.telegram_api import FakeTelegramServer

SENTENCE = "Bij de vijver van Zuidbroek staat een kapotte bank 7f3a9q"
USER_ID = 918273645


async def break_table(app: App, table: str) -> None:
    """Make every insert into `table` fail, as a full disk or a broken constraint would."""
    async with app.database.transaction() as session:
        if app.database.is_sqlite:
            await session.execute(
                text(
                    f"CREATE TRIGGER broken_{table} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            # PostgreSQL then says "DETAIL: Failing row contains (..., <the row>)".
            await session.execute(
                text(f"ALTER TABLE {table} ADD CONSTRAINT broken_{table} CHECK (id < 0) NOT VALID")
            )


async def mend_table(app: App, table: str) -> None:
    async with app.database.transaction() as session:
        if app.database.is_sqlite:
            await session.execute(text(f"DROP TRIGGER broken_{table}"))
        else:
            await session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT broken_{table}"))


def leaks(found: str) -> list[str]:
    return [what for what in (SENTENCE, "7f3a9q", str(USER_ID)) if what in found]


@pytest.mark.usefixtures("channel")
async def test_a_failed_write_leaves_no_words_or_id_in_log_or_health(
    app: App,
    server: FakeTelegramServer,
    channel: TelegramChannel,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(polling, "FAILING_TOO_LONG", 0.0)  # report the failure at once
    resident = server.user(USER_ID, "Anouk", language_code="en")
    await onboard(resident)

    # 1. The answer cannot be stored: the turn fails, the resident gets an apology.
    await break_table(app, "answers")
    resident.send_text(SENTENCE)
    replies = await resident.wait_reply(1)
    assert "something went wrong" in (replies[-1].text or "")
    assert "on table answers" in caplog.text  # IntegrityError, or CheckViolation on PG
    await mend_table(app, "answers")

    # 2. The update cannot even be kept: polling fails, health says so.
    await break_table(app, "inbox")
    resident.send_text(SENTENCE)
    await server.wait_for(lambda: channel.health().ok is False, timeout=20)
    heartbeat = tmp_path / "health" / FILE
    Heartbeat(heartbeat, {"telegram": channel}).write()
    health_file = heartbeat.read_text()
    ok, lines = check(heartbeat)
    command = CliRunner().invoke(
        cli_app, ["health"], env={"BUURTBOT_DATA_DIR": str(heartbeat.parent)}
    )
    assert not ok and command.exit_code == 1
    assert "on table inbox" in health_file and "on table inbox" in command.output
    for found in (caplog.text, health_file, "\n".join(lines), command.output):
        assert leaks(found) == [], found
    assert "Failing row contains" not in caplog.text + health_file
    assert "[parameters:" not in caplog.text

    # Nothing was lost: the database takes writes again, the words arrive.
    await mend_table(app, "inbox")
    await server.wait_for(lambda: channel.health().ok, timeout=30)
    await resident.wait_reply(1)
    assert (await stored_answers(app)).get("what-matters.good") == SENTENCE
