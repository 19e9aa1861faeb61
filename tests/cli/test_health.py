"""`buurtbot health`: its exit status is the verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.health import FILE, Health, Heartbeat
from tests.test_health import Part


def test_buurtbot_health_exits_with_the_verdict(tmp_path: Path) -> None:
    env = {**os.environ, "BUURTBOT_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "bot", "health"]
    missing = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "has not started" in missing.stdout
    Heartbeat(tmp_path / FILE, {"scheduler": Part(Health(True, "running"))}).write()
    fine = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "scheduler: ok – running" in fine.stdout


def test_buurtbot_health_lists_the_processes_of_the_deployment(tmp_path: Path) -> None:
    """Each process registered in the database, with what it leads."""
    import asyncio

    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from bot.storage.processes import JOBS, Presence

    url = f"sqlite:///{tmp_path}/buurtbot.db"
    upgrade(url)

    async def register() -> None:
        database = Database(url)
        presence = Presence(database, every=3600)
        presence.want(JOBS)
        await presence.start()
        # Left running (not stopped): as a process that is still there.
        assert presence._task is not None
        presence._task.cancel()
        await database.close()

    asyncio.run(register())
    env = {**os.environ, "BUURTBOT_DATA_DIR": str(tmp_path), "BUURTBOT_DATABASE_URL": url}
    Heartbeat(tmp_path / FILE, {"scheduler": Part(Health(True, "running"))}).write()
    said = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert said.returncode == 0, said.stdout + said.stderr
    assert "processes: 1 running" in said.stdout
    assert f"running, leads {JOBS}; heartbeat" in said.stdout
