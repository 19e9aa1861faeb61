"""`buurtbot run` with a token: the real command, as an operator starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramServer


async def test_buurtbot_run_starts_the_telegram_channel(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "BUURTBOT_DATABASE_URL": f"sqlite:///{tmp_path}/buurtbot.db",
        "BUURTBOT_TELEGRAM_TOKEN": server.token,
        "BUURTBOT_TELEGRAM_API_URL": server.base_url,
        "BUURTBOT_SECRET_KEY": "run-test",
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_CONVERSATIONS_DIR": str(ROOT / "conversations"),
        "BUURTBOT_QUIET_HOURS": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        (question,) = await ada.wait_reply(1, timeout=60)
        assert "Which language" in (question.text or "")
        ada.press("English")
        await ada.wait_reply(3)
        await server.wait_for_calls("setMyCommands", 7, timeout=10)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    log = output.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    assert "Telegram: @buurtbot_test_bot is polling" in log
    assert server.violations == [] and server.unanswered_callback_queries == []


async def test_a_wrong_token_stops_the_start_with_one_clear_line(
    app_with_wrong_token: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.channels.telegram import start

    with pytest.raises(SystemExit):
        await start(app_with_wrong_token)
    assert "Telegram refused BUURTBOT_TELEGRAM_TOKEN" in caplog.text


async def test_an_unreachable_api_stops_the_start_with_one_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import build
    from bot.channels.telegram import TelegramChannel
    from tests.conftest import make_settings

    settings = make_settings(
        f"sqlite:///{tmp_path}/b.db",
        tmp_path,
        telegram_token="1:x",
        telegram_api_url="http://127.0.0.1:9/bot",  # nothing listens on the discard port
    )
    app = build(settings)
    channel = TelegramChannel(app)
    monkeypatch.setattr(asyncio, "sleep", _no_wait)
    try:
        with pytest.raises(SystemExit):
            await channel.start()
    finally:
        await app.close()
    assert "cannot be reached" in caplog.text and "BUURTBOT_TELEGRAM_API_URL" in caplog.text


async def _no_wait(seconds: float) -> None:
    return None


@pytest.fixture
async def app_with_wrong_token(tmp_path: Path, server: FakeTelegramServer) -> Any:
    from bot.app import build
    from tests.conftest import make_settings

    settings = make_settings(
        f"sqlite:///{tmp_path}/b.db",
        tmp_path,
        telegram_token="999:wrong",
        telegram_api_url=server.base_url,
    )
    app = build(settings)
    yield app
    await app.close()
