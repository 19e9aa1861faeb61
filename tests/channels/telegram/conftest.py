"""The real app, its Telegram channel, and the fake Bot API server they talk to over HTTP.

Every test runs on SQLite and, when `BUURTBOT_TEST_DATABASE_URL` is set, on PostgreSQL;
each ends by checking that the bot did nothing Telegram would refuse and answered every
button press.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel, start
from bot.channels.telegram.errors import RetryPolicy
from bot.settings import Settings
from bot.storage.models import Answer, Participant
from tests.conftest import make_settings
from tests.fakes.telegram_api import Call, FakeTelegramServer, FakeUser

FAST_RETRIES = RetryPolicy(network_attempts=6, base_delay=0.05, max_delay=0.2, max_flood_wait=30)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, server: FakeTelegramServer) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        telegram_token=server.token,
        telegram_api_url=server.base_url,
    )


@pytest.fixture
def webhook_settings(database_url: str, tmp_path: Path, server: FakeTelegramServer) -> Settings:
    """Settings for webhook mode on a free local port (`telegram_webhook_url` says which)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return make_settings(
        database_url,
        tmp_path,
        telegram_token=server.token,
        telegram_api_url=server.base_url,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )


StartChannel = Callable[..., Any]


@pytest.fixture
async def start_channel(app: App, server: FakeTelegramServer) -> AsyncIterator[Callable[..., Any]]:
    """Starts channels (test options by default); stops them and checks the fake after."""
    started: list[TelegramChannel] = []

    async def starter(**options: Any) -> TelegramChannel:
        values: dict[str, Any] = {
            "poll_timeout": 1,
            "typing_delay": 60,
            "retry_policy": FAST_RETRIES,
        }
        values.update(options)
        channel = await start(app, **values)
        started.append(channel)
        return channel

    yield starter
    for channel in started:
        if channel.application.running:
            await channel.stop()
    assert server.violations == []
    assert server.unanswered_callback_queries == []


@pytest.fixture
async def channel(start_channel: Callable[..., Any]) -> TelegramChannel:
    return await start_channel()


# ---- helpers ---------------------------------------------------------------------------


def texts(calls: list[Call]) -> list[str]:
    return [call.text or "" for call in calls]


def buttons(message: dict[str, Any] | None) -> list[str]:
    """The texts of a bot message's inline buttons, row by row flattened."""
    if not message or "reply_markup" not in message:
        return []
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def stored_answers(app: App) -> dict[str, object]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
    return {f"{r.flow_id}.{r.step_key}": (None if r.skipped else r.value) for r in rows}


async def participant(app: App, user: FakeUser) -> Participant | None:
    async with app.database.transaction() as session:
        result = await session.execute(
            select(Participant).where(
                Participant.channel == "telegram",
                Participant.channel_user_id == str(user.user_id),
            )
        )
        return result.scalar_one_or_none()


async def onboard(user: FakeUser) -> list[Call]:
    """From /start to the first question of what-matters, with buttons and one typed answer."""
    user.send_command("start")
    await user.wait_reply(1)
    user.press("English")
    await user.wait_reply(3)  # the answer shown, the introduction, the consent question
    user.press("Yes, I agree")
    await user.wait_reply(2)
    user.press("Kerkelanden")
    await user.wait_reply(2)
    user.send_text("2")  # 18 to 27, typed
    await user.wait_reply(2)
    user.press("Green spaces and gardens")
    await user.wait_reply(1)
    user.press("Sport and play")
    await user.wait_reply(1)
    user.press("Done")
    return await user.wait_reply(3)  # the answer, the welcome, what-matters' first question
