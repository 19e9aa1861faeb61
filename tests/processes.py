"""`buurtbot run` as a process of its own, as an operator starts it (for kill -9 tests)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.conftest import ROOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its `BUURTBOT_` settings, and test ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBOT_")}
    env.update(
        BUURTBOT_DATABASE_URL=database_url,
        BUURTBOT_SECRET_KEY="run-test",
        BUURTBOT_DATA_DIR=str(tmp_path / "data"),
        BUURTBOT_DEPLOYMENT_FILE=str(ROOT / "buurtbot.yaml"),
        BUURTBOT_CONVERSATIONS_DIR=str(ROOT / "conversations"),
        BUURTBOT_QUIET_HOURS="",
        BUURTBOT_DASHBOARD_LISTEN="",
    )
    env.update({f"BUURTBOT_{name.upper()}": value for name, value in settings.items()})
    return env


async def run(
    env: dict[str, str],
    cwd: Path,
    command: str = "run",
    *arguments: str,
    log: Path | None = None,
) -> asyncio.subprocess.Process:
    """`buurtbot run` (or another command) with `env`, its output (log included) on one pipe.

    With `log`, the output goes to that file instead (a test can read it while it runs).
    """
    out = asyncio.subprocess.PIPE if log is None else log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            command,
            *arguments,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        if log is not None and not isinstance(out, int):
            out.close()


async def stopped(process: asyncio.subprocess.Process) -> str:
    """Stop it as a service manager does (SIGTERM) unless it ended; its output."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return output.decode()
