"""Processes sharing one database: presence, roles, inbox claims and the shared send rate."""

from __future__ import annotations

import pytest

from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.processes import JOBS, Presence, overview
from bot.storage.send_rates import SharedRate


async def test_one_process_leads_a_role_and_another_takes_it_when_it_goes(
    database: Database, database_url: str
) -> None:
    first, second = Presence(database, every=3600), Presence(Database(database_url), every=3600)
    for presence in (first, second):
        presence.want(JOBS)
        await presence.start()
    try:
        if database.is_sqlite:
            # One process on SQLite: it leads everything and shares nothing.
            assert first.leads(JOBS) and not first.shared
            return
        assert first.shared and second.shared
        assert first.leads(JOBS) and not second.leads(JOBS)
        states = {state.id: state for state in await overview(database)}
        assert states[first.id].alive and states[second.id].alive
        assert states[first.id].leads == [JOBS] and states[second.id].leads == []

        await first.stop()
        await second.refresh()
        assert second.leads(JOBS)
        states = {state.id: state for state in await overview(database)}
        assert not states[first.id].alive and states[first.id].stopped_at is not None
        assert states[second.id].leads == [JOBS]
    finally:
        await first.stop()
        await second.stop()
        await second.database.close()


async def test_claims_take_each_persons_oldest_update_and_outlive_a_dead_process(
    database: Database, database_url: str
) -> None:
    if database.is_sqlite:
        pytest.skip("claims are how several processes share PostgreSQL")
    await inbox.exchange(
        database,
        "telegram",
        [(1, "a1", "ada"), (2, "b1", "bob"), (3, "a2", "ada"), (4, "c1", None)],
    )
    mine = await inbox.claim(database, "telegram", 1, 10, 60)
    # Ada's second waits for her first; bob's and the one of nobody go too.
    assert [payload for _id, _position, payload, _retried in mine] == ["a1", "b1", "c1"]
    assert not any(retried for *_row, retried in mine)
    assert await inbox.claim(database, "telegram", 2, 10, 60) == []
    # Process 1 handled Ada's first: forgetting it frees her second, in one go.
    ada_first = mine[0][0]
    again = await inbox.claim(database, "telegram", 1, 10, 60, handled=[ada_first])
    assert [payload for _id, _position, payload, _retried in again] == ["a2"]
    # Process 1 dies (it is not among the living): its claims go to process 2.
    async with database.engine.begin() as connection:
        assert await inbox.release(connection, alive={2}) == 3
    taken = await inbox.claim(database, "telegram", 2, 10, 60)
    assert sorted(payload for _id, _position, payload, _retried in taken) == ["a2", "b1", "c1"]
    # Each is a second try: it may have been handled before process 1 died.
    assert all(retried for *_row, retried in taken)
    async with database.engine.begin() as connection:
        assert await inbox.release(connection, alive={2}) == 0  # released once


async def test_the_shared_rate_spaces_every_process_s_slots(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("the shared bucket is for several processes on PostgreSQL")
    one, two = SharedRate(database, "telegram", 10), SharedRate(database, "telegram", 10)
    waits = [await one.take(), await two.take(), await one.take(3), await two.take()]
    # 0.1 s a slot: each taker waits for the slots all the others took before it (less
    # the time the takes themselves took, on a busy machine).
    assert waits[0] < 0.01
    assert 0 < waits[1] <= 0.1 and 0 < waits[2] <= 0.2
    assert 0.2 < waits[3] <= 0.5
