"""Fixtures for the Signal channel: the fake daemon, and the bot talking to it over HTTP."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build
from bot.channels.signal import SignalChannel, start
from bot.settings import Settings
from bot.storage.models import Answer, Participant
from tests.conftest import ROOT, make_settings
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson

PHOTO_FLOW = """\
id: photo
version: 1
language: en
title: A photo of your street
command: photo
steps:
  - key: picture
    kind: media
    text: Send a photo or a voice message about your street.
    accept: [photo, voice]
  - key: thanks
    kind: message
    text: Thank you!
"""


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    async with FakeSignalDaemon(keepalive=0.5) as fake:
        yield fake


@pytest.fixture
def conversations(tmp_path: Path) -> Path:
    """The project's flows, plus a small one with a media question."""
    folder = tmp_path / "conversations"
    shutil.copytree(ROOT / "conversations", folder)
    (folder / "photo.yaml").write_text(PHOTO_FLOW)
    return folder


@dataclass
class Bot:
    app: App
    channel: SignalChannel
    daemon: FakeSignalDaemon

    async def say(self, person: FakeSignalPerson, text: str, group_id: str | None = None) -> str:
        """The person types `text`; what the bot answered, once it is all sent."""
        ts = person.send_text(text, group_id=group_id)
        await self.channel.handled(person.key(ts))
        return person.text()

    async def react(self, person: FakeSignalPerson, emoji: str, target: int, **kw) -> str:
        ts = person.react(emoji, target, **kw)
        await self.channel.handled(person.key(ts))
        return person.text()

    async def answers(self) -> dict[str, object]:
        async with self.app.database.transaction() as session:
            rows = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
        return {f"{r.flow_id}.{r.step_key}": (None if r.skipped else r.value) for r in rows}

    async def participants(self) -> list[Participant]:
        async with self.app.database.transaction() as session:
            return list((await session.execute(select(Participant))).scalars().all())


@pytest.fixture
def signal_settings(
    database_url: str, tmp_path: Path, daemon: FakeSignalDaemon, conversations: Path
) -> Settings:
    """The app's settings with the Signal channel on the fake daemon."""
    return make_settings(
        database_url,
        tmp_path,
        signal_url=daemon.url,
        signal_number=daemon.account,
        signal_rate=200,
        conversations_dir=conversations,
    )


@pytest.fixture
async def bot(signal_settings: Settings, daemon: FakeSignalDaemon) -> AsyncIterator[Bot]:
    app = build(signal_settings)
    channel = await start(app, initial_backoff=0.05, max_backoff=0.2, read_timeout=3)
    try:
        await daemon.wait_connections(1)
        yield Bot(app, channel, daemon)
    finally:
        await channel.stop()
        await app.close()
    assert daemon.violations == []


def option(text: str, label: str) -> str:
    """The number in front of `label` in a numbered options message."""
    match = re.search(rf"^\u200f?(\d+)\. (?:✅ )?{re.escape(label)}$", text, re.MULTILINE)
    assert match, f"no option {label!r} in:\n{text}"
    return match.group(1)
