"""Once started, the bot's long-lived objects leave the collector's regular walks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot import collector
from bot.app import App


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_settle_freezes_what_exists_and_collects_less_often() -> None:
    kept = [[n] for n in range(1000)]  # stands for the flows and catalogs loaded at start-up
    gc.unfreeze()
    collector.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold()[0] == collector.YOUNGEST


@pytest.mark.usefixtures("restored_collector")
def test_a_started_bot_reads_every_offered_language_first(app: App) -> None:
    offered = app.settings.language_list
    assert len(offered) > 1 and not set(offered) & set(app.catalogs._cache)
    app.settle()
    assert set(offered) <= set(app.catalogs._cache)  # no first message waits for a file
    assert gc.get_freeze_count() > 0
