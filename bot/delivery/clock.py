"""Time, injectable: the real clock in production, a hand-driven one in tests.

Everything in delivery asks a `Clock` for the time and sleeps through it, so tests move
time forward (two weeks, a night of quiet hours, a `retry_after`) without sleeping.
Sleeps take an absolute monotonic deadline, which keeps a manual clock exact when many
tasks wait at once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for pacing)."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Wait until `monotonic()` reaches `deadline`."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)


SYSTEM = SystemClock()


class ManualClock:
    """A clock that only moves when told to, or when someone sleeps on it.

    A sleep moves the time to its deadline at once (never backwards), so waiting costs
    no real time. Time only goes forward, so every gap the code asked for is at least
    that long in what a test observes (concurrent sleepers may see it a little longer).
    """

    def __init__(self, start: datetime | None = None):
        self._start = start or datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        if self._start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self._elapsed

    def advance(self, by: timedelta | float) -> None:
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        if seconds < 0:
            raise ValueError("time does not go back")
        self._elapsed += seconds

    def set(self, when: datetime) -> None:
        self.advance(when - self.now())

    async def sleep_until(self, deadline: float) -> None:
        # No yield: the caller goes on at exactly its deadline, before any other task
        # can move the time further (a send is then recorded at the time it was paced).
        wait = deadline - self.monotonic()
        if wait > 0:
            self.sleeps.append(wait)
            self._elapsed += wait
