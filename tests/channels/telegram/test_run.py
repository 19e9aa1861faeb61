"""`buurtbot run` with a token: the real command, as an operator starts it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests import processes
from tests.fakes.telegram_api import FakeTelegramServer


def _environment(server: FakeTelegramServer, tmp_path: Path) -> dict[str, str]:
    return processes.environment(
        f"sqlite:///{tmp_path}/buurtbot.db",
        tmp_path,
        telegram_token=server.token,
        telegram_api_url=server.base_url,
    )


async def _run(server: FakeTelegramServer, tmp_path: Path) -> asyncio.subprocess.Process:
    """`buurtbot run`, as an operator starts it."""
    return await processes.run(_environment(server, tmp_path), tmp_path)


async def test_buurtbot_run_starts_the_telegram_channel(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    process = await _run(server, tmp_path)
    try:
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        (question,) = await ada.wait_reply(1, timeout=60)
        assert "Which language" in (question.text or "")
        ada.press("English")
        await ada.wait_reply(3)
        await server.wait_for_calls("setMyCommands", 7, timeout=10)
    finally:
        log = await processes.stopped(process)
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    assert "Telegram: @buurtbot_test_bot is polling" in log
    assert server.violations == [] and server.unanswered_callback_queries == []


async def test_updates_fetched_before_a_kill_are_handled_after_the_restart(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """Telegram forgets what the bot has fetched; `kill -9` must not lose it."""
    ada = server.user(42, language_code="en")
    process = await _run(server, tmp_path)
    try:
        ada.send_command("start")
        await ada.wait_reply(1, timeout=60)
        # The reply to the press hangs (the question is never closed), so the press is
        # still being handled and the message after it waits behind it, in ada's order.
        server.delay("editMessageText", 60)
        ada.press("English")
        ada.send_command("help")
        await server.wait_for(lambda: server.unconfirmed_updates == 0, timeout=30)
        assert not [c for c in server.calls if c.method == "sendMessage" and c.ok][1:]
    finally:
        process.kill()
        await process.wait()
    server.delay("editMessageText", 0)

    process = await _run(server, tmp_path)
    try:
        (help_text,) = await ada.wait_reply(1, timeout=60)
    finally:
        log = await processes.stopped(process)
    assert "/privacy" in (help_text.text or ""), log
    assert "handled now" in log
    assert "Traceback" not in log, log
    # The press comes again from the inbox, and its button may have been answered before
    # the kill: answering it again is refused as too old, harmlessly. Nothing else.
    assert all("query is too old" in v for v in server.violations), server.violations


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


async def test_buurtbot_health_reports_the_running_bot(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    async def ask() -> tuple[int, str]:
        checked = await processes.run(_environment(server, tmp_path), tmp_path, "health")
        output, _ = await checked.communicate()
        return checked.returncode or 0, output.decode()

    process = await _run(server, tmp_path)
    try:
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        await ada.wait_reply(1, timeout=60)
        code, said = await ask()
        assert code == 0, said
        assert "telegram: ok – polling" in said and "scheduler: ok – running" in said
    finally:
        log = await processes.stopped(process)
    assert process.returncode == 0, log
    code, said = await ask()
    assert code == 1 and "the bot stopped" in said


async def test_a_token_revoked_while_running_stops_the_bot_with_a_clear_error(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    """Polling with a dead token would leave a bot that hears nobody: it exits instead."""
    process = await _run(server, tmp_path)
    try:
        ada = server.user(42, language_code="en")
        ada.send_command("start")
        await ada.wait_reply(1, timeout=60)
        server.token = "123456789:revoked"  # the operator reset it at @BotFather
        ada.send_text("hello")  # ends the long poll under way; the next one is refused
        await asyncio.wait_for(process.wait(), 30)
    finally:
        log = await processes.stopped(process)
    assert process.returncode == 2, log
    assert "refused BUURTBOT_TELEGRAM_TOKEN while polling" in log, log
    assert "Traceback" not in log, log


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
