"""Health: what a running `buurtbot run` says about itself, for `buurtbot health`.

A bot can run and still do nothing useful: Telegram unreachable for an hour, signal-cli
gone, the event loop stuck. The runner writes `health.json` in the data folder every
`HEARTBEAT` seconds: when, and for each part that can tell (`health()` on a channel or
the scheduler), whether it works and a few words on how. `buurtbot health` reads it and
exits 0 only when it is fresh and every part works, so a service manager or Docker's
`HEALTHCHECK` can restart the bot or alert the operator. A clean stop writes that the
bot stopped.

    {"at": "2026-12-03T09:00:00+00:00", "pid": 7, "stopped": false,
     "parts": {"telegram": {"ok": true, "detail": "polling"},
               "scheduler": {"ok": true, "detail": "running"},
               "dashboard": {"ok": true, "detail": "on http://127.0.0.1:8000",
                             "url": "http://127.0.0.1:8000"}}}

A part served over HTTP (the dashboard) also gives its `url`: `buurtbot health` then asks
it for a page (`/logged-out`, no database needed) and says whether and how fast it
answered, because a server can be written down as running and still not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot import keyfile

log = logging.getLogger(__name__)

FILE = "health.json"
HEARTBEAT = 15.0  # seconds between writes
STALE_AFTER = 60.0  # seconds: a heartbeat older than this means the bot is not running


@dataclass(frozen=True)
class Health:
    """One part's state: does it work, and a few words for the operator."""

    ok: bool
    detail: str = ""
    url: str = ""
    """Where the part answers HTTP, for `check` to ask it (empty: it does not)."""


class Reporting(Protocol):
    """A part of the running bot that can tell whether it works."""

    def health(self) -> Health: ...


class Heartbeat:
    """Writes the state of the parts to `path` every `every` seconds while running."""

    def __init__(self, path: Path, parts: Mapping[str, Reporting], every: float = HEARTBEAT):
        self.path = path
        self.parts = dict(parts)
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.write()
        self._task = asyncio.create_task(self._beat(), name="health-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.write(stopped=True)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.write()

    def states(self) -> dict[str, dict[str, Any]]:
        """Each part's state as written: `{"ok": bool, "detail": str}`."""
        states: dict[str, dict[str, Any]] = {}
        for name, part in self.parts.items():
            try:
                state = part.health()
            except Exception as error:  # a part that cannot say is not working
                # Its kind only: an error's text may carry what it was working on.
                state = Health(False, f"cannot tell: {type(error).__name__}")
            states[name] = {"ok": state.ok, "detail": state.detail}
            if state.url:
                states[name]["url"] = state.url
        return states

    def write(self, stopped: bool = False) -> None:
        """Replace the file at once (a reader never sees half of it); never raises."""
        states = self.states()
        record = {
            "at": datetime.now(UTC).isoformat(),
            "pid": os.getpid(),
            "stopped": stopped,
            "parts": states,
        }
        try:
            keyfile.private_folder(self.path.parent)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps(record, indent=1) + "\n")
            partial.replace(self.path)
        except OSError as error:
            log.warning("health: %s could not be written (%s)", self.path, error)


def check(path: Path, stale_after: float = STALE_AFTER) -> tuple[bool, list[str]]:
    """Whether the bot that writes `path` is running and working; lines that say why."""
    try:
        record = json.loads(path.read_text())
        at = datetime.fromisoformat(record["at"])
    except FileNotFoundError:
        return False, [f"no {path}: `buurtbot run` has not started here"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, [f"{path} cannot be read: {error}"]
    age = (datetime.now(UTC) - at).total_seconds()
    if record.get("stopped"):
        return False, [f"the bot stopped {age:.0f} s ago"]
    lines = [f"heartbeat {age:.0f} s ago (process {record.get('pid')})"]
    ok = age <= stale_after
    if not ok:
        lines[0] += f": older than {stale_after:.0f} s, the bot is not running or stuck"
    for name, state in sorted((record.get("parts") or {}).items()):
        works = bool(state.get("ok"))
        detail = state.get("detail") or ""
        if works and state.get("url"):
            works, said = answers(str(state["url"]))
            detail = f"{detail}; {said}" if detail else said
        ok = ok and works
        lines.append(f"{name}: {'ok' if works else 'NOT OK'}{' – ' + detail if detail else ''}")
    return ok, lines


PROBE_PATH = "/logged-out"
PROBE_TIMEOUT = 3.0


def answers(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[bool, str]:
    """Whether the server at `url` answers a page, and in how many milliseconds. An
    address to listen on everywhere (0.0.0.0, ::) is asked on this machine."""
    local = url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:")
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(local + PROBE_PATH, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"did not answer at {local} ({reason})"
    ms = (time.perf_counter() - began) * 1000
    if status != 200:
        return False, f"answered {status} at {local}"
    return True, f"answered in {ms:.0f} ms"
