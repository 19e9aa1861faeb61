"""Delivery fixtures: a hand-driven clock, a recording sender, people in the database.

The recording sender stands in for a chat platform at the channel boundary (the
`Sender` protocol): it records each attempt at the clock's time and answers as told.
Everything behind it (outbox, dispatcher, pacing, storage) is the real code on a real
SQLite or PostgreSQL database.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App, build
from bot.conversation.turns import Reply
from bot.delivery.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.sender import Delivery, Status
from bot.flows.events import Ask, Say
from bot.storage.models import OutboxMessage, Participant
from tests.conftest import make_settings

# A Monday, 11:00 in Amsterdam: outside the default quiet hours.
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class Attempt:
    at: float
    when: datetime
    user_id: str
    texts: list[str]
    reply: Reply


@dataclass
class RecordingSender:
    """A `Sender` that records each attempt and answers from a script (default: sent)."""

    clock: ManualClock
    channel: str = "test"
    rate: float = 1000.0
    per_chat_interval: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    script: dict[str, deque[Delivery]] = field(default_factory=lambda: defaultdict(deque))
    always: dict[str, Delivery] = field(default_factory=dict)

    def answer(self, user_id: str, *deliveries: Delivery) -> None:
        self.script[user_id].extend(deliveries)

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        texts = [m.text for m in reply.messages if isinstance(m, Say | Ask)]
        self.attempts.append(
            Attempt(self.clock.monotonic(), self.clock.now(), user_id, texts, reply)
        )
        if self.script[user_id]:
            return self.script[user_id].popleft()
        return self.always.get(user_id, Delivery(Status.SENT))

    @property
    def delivered(self) -> list[str]:
        return [a.user_id for a in self.attempts]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sender(clock: ManualClock) -> RecordingSender:
    return RecordingSender(clock)


@pytest.fixture
async def make_app(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """Build an app with settings overrides; each is closed at the end."""
    built: list[App] = []

    def factory(**overrides: Any) -> App:
        app = build(make_settings(database_url, tmp_path, **overrides))
        built.append(app)
        return app

    yield factory
    for app in built:
        await app.close()


@pytest.fixture
async def app(make_app: Any) -> App:
    return make_app()


def dispatcher_for(app: App, sender: RecordingSender, clock: ManualClock, **kw: Any) -> Dispatcher:
    return Dispatcher(app, [sender], clock, **kw)


async def add_people(
    app: App,
    count: int,
    *,
    channel: str = "test",
    language: str = "nl",
    consented: bool = True,
    prefix: str = "u",
    **fields: Any,
) -> list[Participant]:
    people = []
    async with app.database.transaction() as session:
        for n in range(count):
            person = Participant(
                channel=channel,
                channel_user_id=f"{prefix}{n}",
                language=language,
                role="resident",
                consented_at=START - timedelta(days=30) if consented else None,
                **fields,
            )
            session.add(person)
            people.append(person)
        await session.flush()
    return people


async def rows(app: App, **where: Any) -> list[OutboxMessage]:
    async with app.database.transaction() as session:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            statement = statement.where(getattr(OutboxMessage, key) == value)
        return list((await session.execute(statement)).scalars())


async def statuses(app: App) -> dict[int, str]:
    return {row.id: row.status for row in await rows(app)}
