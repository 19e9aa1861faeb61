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
