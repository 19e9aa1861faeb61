"""The inbox of fetched updates, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.storage import inbox
from bot.storage.db import Database


async def test_kept_updates_wait_in_their_order_until_forgotten(database: Database) -> None:
    await inbox.exchange(database, "telegram", [(12, '{"b": 1}', "7"), (11, '{"a": 1}', "7")])
    await inbox.exchange(database, "signal", [(11, '{"other": 1}', "7")])
    assert await inbox.waiting(database, "telegram") == [(11, '{"a": 1}'), (12, '{"b": 1}')]

    await inbox.exchange(database, "telegram", [(13, '{"c": 1}', None)], handled=[11, 12])
    assert await inbox.waiting(database, "telegram") == [(13, '{"c": 1}')]
    assert await inbox.waiting(database, "signal") == [(11, '{"other": 1}')]


async def test_an_update_fetched_again_is_kept_once(database: Database) -> None:
    await inbox.exchange(database, "telegram", [(5, '{"first": 1}', "7")])
    await inbox.exchange(database, "telegram", [(5, '{"again": 1}', "7"), (6, "{}", "7")])
    assert await inbox.waiting(database, "telegram") == [(5, '{"first": 1}'), (6, "{}")]


async def test_forgetting_alone_and_nothing_at_all(database: Database) -> None:
    await inbox.exchange(database, "telegram", [(1, "{}", "7"), (2, "{}", "7")])
    await inbox.exchange(database, "telegram", [], handled=[2, 2, 99])
    await inbox.exchange(database, "telegram", [])
    assert await inbox.waiting(database, "telegram") == [(1, "{}")]


async def test_a_person_s_waiting_updates_can_be_dropped(database: Database) -> None:
    await inbox.exchange(
        database,
        "telegram",
        [(1, '{"a": 1}', "42"), (2, '{"b": 1}', "7"), (3, '{"c": 1}', "42"), (4, "{}", None)],
    )
    await inbox.exchange(database, "signal", [(1, "{}", "42")])
    async with database.transaction() as session:
        assert await inbox.forget_sender(session, "telegram", "42") == 2
    assert await inbox.waiting(database, "telegram") == [(2, '{"b": 1}'), (4, "{}")]
    assert await inbox.waiting(database, "signal") == [(1, "{}")]
