"""/forget over Telegram: nothing of the person is left in the database file or its WAL.

Telegram's updates carry more than the bot keeps (the person's name and @username):
they pass through the inbox on their way in, so they must not outlive the erasure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.storage import inbox
from tests.channels.telegram.conftest import onboard
from tests.fakes.telegram_api import FakeTelegramServer

NAME, SURNAME, HANDLE = "Zephyrine", "Quackenbush", "zeph_walrus_77"
TELEGRAM_ID = 918_273_645
WORDS = "ParkbankjeBijDeVijver"


def database_bytes(app: App) -> bytes:
    path = Path(make_url(app.settings.database_url).database or "")
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_forget_leaves_no_id_name_words_or_updates_behind(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    if not app.database.is_sqlite:
        pytest.skip("reads SQLite's files")
    zeph = server.user(TELEGRAM_ID, NAME, "en", last_name=SURNAME, username=HANDLE)
    await onboard(zeph)
    zeph.send_text(f"More benches: {WORDS}")
    await zeph.wait_reply(2)
    zeph.send_command("forget")
    await zeph.wait_reply(1)
    zeph.press("Yes")
    await zeph.wait_reply(1)
    await server.wait_for(lambda: not server.pending_updates)

    async def inbox_empty() -> bool:
        return await inbox.waiting(app.database, "telegram") == []

    await server.wait_for(inbox_empty, timeout=10)
    data = database_bytes(app)
    traces = (NAME, SURNAME, HANDLE, WORDS, str(TELEGRAM_ID))
    left = [trace for trace in traces if trace.encode() in data]
    assert left == []
