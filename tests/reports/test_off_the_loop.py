"""A worker's `/results` and `/export` read the answers in a worker thread, not on the
event loop: on SQLite the loop would run those statements itself, and every chat would
wait for them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from gettext import NullTranslations
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.deployment import Deployment
from bot.flows.library import FlowLibrary
from bot.reports.export import export_document
from bot.reports.report import results_messages
from bot.storage.db import Database
from tests.reports.conftest import SECRET
from tests.reports.seed import seed

pytestmark = pytest.mark.postgres


@pytest.fixture
def threads_reading_answers() -> Iterator[list[int]]:
    """The threads that ran a statement reading the answers table, on any engine."""
    found: list[int] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM answers" in statement:
            found.append(threading.get_ident())

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


@pytest.mark.parametrize("asked", ["/results", "/export"])
async def test_a_workers_results_and_export_are_read_off_the_loop(
    db_url: str,
    library: FlowLibrary,
    deployment: Deployment,
    threads_reading_answers: list[int],
    asked: str,
) -> None:
    seed(db_url, participants=30, small=0, extra_flows=False)
    threads_reading_answers.clear()  # the seeder's own
    database = Database(db_url)
    try:
        if asked == "/results":
            out: Any = await results_messages(
                database,
                library=library,
                deployment=deployment,
                translator=NullTranslations(),
                neighbourhoods=None,
                compare=None,
                max_charts=0,
            )
        else:
            out = await export_document(
                database,
                library=library,
                deployment=deployment,
                secret=SECRET,
                translator=NullTranslations(),
                neighbourhoods=None,
                fmt="csv",
            )
    finally:
        await database.close()
    assert out  # something was made
    assert threads_reading_answers
    assert threading.get_ident() not in threads_reading_answers
