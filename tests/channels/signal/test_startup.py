"""Starting the Signal channel: the daemon and the bot's number are checked first."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import build
from bot.channels.signal import SignalNotReady, start
from bot.health import Health
from tests.channels.signal.conftest import Bot
from tests.conftest import make_settings
from tests.fakes.signal_daemon import FakeSignalDaemon


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_number_the_daemon_does_not_have_stops_the_start_with_one_line(
    sqlite_url: str, tmp_path: Path, daemon: FakeSignalDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        sqlite_url, tmp_path, signal_url=daemon.url, signal_number="+31612345678"
    )
    app = build(settings)
    try:
        with caplog.at_level(logging.INFO), pytest.raises(SignalNotReady) as raised:
            await start(app)
    finally:
        await app.close()
    assert raised.value.code == 1  # `buurtbot run` ends with exit code 1, no traceback
    [line] = error_lines(caplog)
    assert "+31612345678" in line and "not registered or linked" in line
    assert "signal-cli -a +31612345678 register" in line and "signal-cli link" in line
    assert "README" in line
    assert str(raised.value) == line
    assert daemon.connections == 0  # it did not sit waiting on an empty stream


async def test_no_daemon_stops_the_start_with_one_line(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        sqlite_url, tmp_path, signal_url="http://127.0.0.1:9", signal_number="+31612345678"
    )
    app = build(settings)
    try:
        with caplog.at_level(logging.INFO), pytest.raises(SignalNotReady):
            await start(app)
    finally:
        await app.close()
    [line] = error_lines(caplog)
    assert "no signal-cli daemon answers at BUURTBOT_SIGNAL_URL=http://127.0.0.1:9" in line
    assert "--receive-mode=on-connection" in line


async def test_a_single_account_daemon_is_accepted(
    sqlite_url: str, tmp_path: Path, daemon: FakeSignalDaemon
) -> None:
    # `signal-cli -a NUMBER daemon` answers listAccounts with "Method not implemented".
    daemon._m_listAccounts = None  # type: ignore[assignment]
    settings = make_settings(
        sqlite_url, tmp_path, signal_url=daemon.url, signal_number=daemon.account
    )
    app = build(settings)
    try:
        channel = await start(app, initial_backoff=0.05)
        await daemon.wait_connections(1)
        await channel.stop()
    finally:
        await app.close()
    assert daemon.stream_requests  # the stream was opened for the account


async def test_health_follows_the_event_stream(bot: Bot) -> None:
    assert bot.channel.health() == Health(True, "connected to signal-cli")
    await bot.channel.stream.stop()
    state = bot.channel.health()
    assert not state.ok and bot.daemon.url in state.detail
