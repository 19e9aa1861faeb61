"""The heartbeat of `buurtbot run` and `buurtbot health`'s reading of it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.health import FILE, Health, Heartbeat, check


class Part:
    def __init__(self, state: Health | Exception):
        self.state = state

    def health(self) -> Health:
        if isinstance(self.state, Exception):
            raise self.state
        return self.state


async def test_a_fresh_heartbeat_with_working_parts_is_healthy(tmp_path: Path) -> None:
    telegram = Part(Health(True, "polling"))
    beat = Heartbeat(tmp_path / FILE, {"telegram": telegram, "scheduler": Part(Health(True))})
    beat.start()
    ok, lines = check(tmp_path / FILE)
    assert ok, lines
    assert lines[1:] == ["scheduler: ok", "telegram: ok – polling"]

    telegram.state = Health(False, "no updates for 75 s: Bad Gateway")
    beat.write()
    ok, lines = check(tmp_path / FILE)
    assert not ok and "telegram: NOT OK – no updates for 75 s: Bad Gateway" in lines

    await beat.stop()
    ok, lines = check(tmp_path / FILE)
    assert not ok and "stopped" in lines[0]


async def test_the_heartbeat_is_written_again_and_again(tmp_path: Path) -> None:
    beat = Heartbeat(tmp_path / FILE, {}, every=0.05)
    beat.start()
    first = json.loads((tmp_path / FILE).read_text())["at"]
    await asyncio.sleep(0.2)
    assert json.loads((tmp_path / FILE).read_text())["at"] > first
    await beat.stop()


def test_a_part_that_cannot_tell_is_not_working(tmp_path: Path) -> None:
    Heartbeat(tmp_path / FILE, {"signal": Part(RuntimeError("boom"))}).write()
    ok, lines = check(tmp_path / FILE)
    # Named by its kind: an error's text may hold what it was working on.
    assert not ok and lines[-1] == "signal: NOT OK – cannot tell: RuntimeError"


def test_an_old_missing_or_broken_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / FILE
    ok, lines = check(path)
    assert not ok and "has not started" in lines[0]
    path.write_text("{half")
    assert not check(path)[0]
    old = datetime.now(UTC) - timedelta(seconds=120)
    path.write_text(json.dumps({"at": old.isoformat(), "parts": {}}))
    ok, lines = check(path, stale_after=60)
    assert not ok and "not running or stuck" in lines[0]
    assert check(path, stale_after=300)[0]
