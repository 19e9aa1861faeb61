"""Long polling: each batch is kept in the inbox before the next `getUpdates` call.

Asking for the updates after a batch (`offset`) is what makes Telegram forget it, so
the batch is kept first (`intake`); the next call then confirms it. Failures (network,
5xx, 409 when another instance polls, 429) are logged and tried again with a growing
pause; a refused token (the bot's token was revoked) ends polling, and `ended` tells
the runner, which stops the bot.

Several processes on PostgreSQL: one polls at a time, the leader of `TELEGRAM_UPDATES`
(Telegram allows one long poll a bot); the others wait and take over when it dies
(`bot.storage.processes`). All of them handle what is polled (`intake`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.channels.telegram.errors import retry_after_seconds
from bot.channels.telegram.intake import Intake
from bot.channels.telegram.request import AiohttpRequest, CallParameters
from bot.health import Health
from bot.storage.errors import describe
from bot.storage.processes import TELEGRAM_UPDATES

log = logging.getLogger(__name__)

BATCH = 100  # Telegram's most a call
# Seconds of failing to fetch updates before polling reports itself not working (a
# short outage or a restart of Telegram's servers is normal).
FAILING_TOO_LONG = 60.0
LONGEST_PAUSE = 30.0  # seconds between tries while Telegram cannot be reached
STANDBY_LOOK = 1.0  # seconds between looks whether this process may poll now


class Poller:
    """Fetches updates by long polling and passes them to the intake."""

    def __init__(self, intake: Intake, *, timeout: float, allowed_updates: Sequence[str]):
        self.intake = intake
        self.bot = intake.application.bot
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        # Its own connection: a long poll holds one for `timeout` seconds.
        self.request = AiohttpRequest(connections=1, read_timeout=timeout + 10.0)
        self._offset: int | None = None  # the first update not kept yet
        self._loop: asyncio.Task[None] | None = None
        # Gets the reason when polling cannot go on (see `bot.runner.Running`).
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        # Since when (loop time) fetching fails, and why; None while it works.
        self.failing_since: float | None = None
        self.last_error = ""
        self.presence = intake.presence
        if self.presence is not None:
            self.presence.want(TELEGRAM_UPDATES)

    @property
    def leads(self) -> bool:
        """Whether this process is the one that polls (always, alone)."""
        return self.presence is None or self.presence.leads(TELEGRAM_UPDATES)

    async def start(self) -> None:
        """Hand over what the inbox holds, then poll in the background."""
        await self.request.initialize()
        last = await self.intake.replay()
        if last is not None:
            self._offset = last + 1
        self._loop = asyncio.create_task(self._run(), name="telegram-polling")

    def health(self) -> Health:
        if self.ended.done():
            return Health(False, self.ended.result())
        if self.failing_since is not None:
            failing = asyncio.get_running_loop().time() - self.failing_since
            if failing > FAILING_TOO_LONG:
                return Health(False, f"no updates for {failing:.0f} s: {self.last_error}")
        if not self.leads:
            return Health(True, "standby: another process polls, this one handles updates")
        return Health(True, "polling")

    async def stop(self) -> None:
        """Stop fetching, finish what was fetched, and tell Telegram what we have."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self.intake.close()
        if self._offset is not None and self.leads:
            # Confirms what was kept, so a restart does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self._fetch(timeout=0, limit=1)
        await self.request.shutdown()

    async def _run(self) -> None:
        failures = 0
        while True:
            if not self.leads:
                await asyncio.sleep(STANDBY_LOOK)
                continue
            try:
                fetched = await self._fetch(timeout=self.timeout, limit=BATCH)
                await self.intake.keep(fetched)
            except asyncio.CancelledError:
                raise
            except InvalidToken as error:
                if not self.ended.done():
                    self.ended.set_result(
                        f"Telegram refused BUURTBOT_TELEGRAM_TOKEN while polling ({error}): "
                        "was it revoked? Copy the token from @BotFather again"
                    )
                return
            except Exception as error:  # any failure: wait and try again
                failures += 1
                self.last_error = describe(error)
                if self.failing_since is None:
                    self.failing_since = asyncio.get_running_loop().time()
                pause = _pause(error, failures)
                log.warning(
                    "Telegram: fetching updates failed (%s); trying again in %.0fs", error, pause
                )
                await asyncio.sleep(pause)
                continue
            failures = 0
            self.failing_since = None
            for update in fetched:
                self.intake.hand_over(update)
            if fetched:
                self._offset = fetched[-1]["update_id"] + 1

    async def _fetch(self, *, timeout: float, limit: int) -> list[dict[str, Any]]:
        parameters = CallParameters(
            {
                "offset": self._offset,
                "limit": limit,
                "timeout": int(timeout),
                "allowed_updates": self.allowed_updates,
            }
        )
        url = f"{self.bot.base_url}/getUpdates"
        result = await self.request.post(url, parameters, read_timeout=timeout + 10.0)
        return list(result) if isinstance(result, list) else []


def _pause(error: Exception, failures: int) -> float:
    if isinstance(error, RetryAfter):
        return retry_after_seconds(error)
    return min(LONGEST_PAUSE, 0.5 * 2 ** min(failures, 8))
