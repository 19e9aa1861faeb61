"""`buurtbot run` with chat platforms: every configured channel and the scheduler at once.

Each part is started in order and stopped in reverse on Ctrl-C or SIGTERM. First of
all the process registers among the processes sharing the database (`app.presence`,
`bot.storage.processes`): on PostgreSQL, several `buurtbot run` share the work. A channel
module offers `start(app) -> Running`; the delivery side registers its senders so the
outbox can reach people on every channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Protocol

from bot import health
from bot.app import App
from bot.channels.base import Channel
from bot.dashboard import SwitchedOff
from bot.dashboard import start as start_dashboard
from bot.delivery.scheduler import start as start_scheduler
from bot.health import Heartbeat

log = logging.getLogger(__name__)


class Running(Protocol):
    """A started part of the bot.

    A part that can fail for good while running (Telegram refusing the token) also has
    `ended`: a future that gets the reason. The bot then stops as a whole and exits
    with status 2, so the service manager shows it, instead of running on half deaf.
    A part with a `name` and `health()` is reported in the heartbeat (`bot.health`).
    """

    async def stop(self) -> None: ...


async def serve(app: App, channels: list[str]) -> None:
    """Run until stopped by a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.presence.start()
        running = await start_all(app, channels)
    except BaseException:
        await app.presence.stop()
        await app.close()
        raise
    heartbeat = Heartbeat(
        app.settings.data_dir / health.FILE,
        {part.name: part for part in running if hasattr(part, "health") and hasattr(part, "name")},
    )
    app.presence.report(heartbeat.states)
    try:
        await app.presence.refresh()  # the roles the parts asked for, at once
    except Exception as error:
        log.warning("processes: roles are taken at the next heartbeat (%s)", error)
    heartbeat.start()
    app.settle()
    try:
        reason = await _until_stopped(stop, running)
    finally:
        await heartbeat.stop()
        for part in reversed(running):
            try:
                await part.stop()
            except Exception:
                log.exception("error while stopping %s", type(part).__name__)
        await app.presence.stop()
        await app.close()
    if reason is not None:
        log.error("Buurtbot stopped: %s", reason)
        raise SystemExit(2)


async def _until_stopped(stop: asyncio.Event, running: list[Running]) -> str | None:
    """Wait for a signal, or for a part that cannot go on; that part's reason, if any."""
    ended: list[asyncio.Future[str]] = [
        future for part in running if (future := getattr(part, "ended", None)) is not None
    ]
    signalled = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([signalled, *ended], return_when=asyncio.FIRST_COMPLETED)
    finally:
        signalled.cancel()
    for future in ended:
        if future.done() and not future.cancelled():
            return future.result()
    return None


async def start_all(app: App, channels: list[str]) -> list[Running]:
    """Start the channels, then the scheduler that delivers through them.

    If one part does not start, the parts already started are stopped again.
    """
    running: list[Running] = []
    try:
        return await _start_parts(app, channels, running)
    except BaseException:
        for part in reversed(running):
            try:
                await part.stop()
            except Exception:
                log.exception("error while stopping %s", type(part).__name__)
        raise


async def _start_channel(name: str, app: App) -> Channel:
    """Start one configured channel; its module is imported only when it is configured."""
    if name == "telegram":
        from bot.channels.telegram import start
    elif name == "signal":
        from bot.channels.signal import start
    else:
        raise ValueError(f"unknown channel {name!r}")
    return await start(app)


async def _start_parts(app: App, channels: list[str], running: list[Running]) -> list[Running]:
    senders = []
    start_link = None
    for name in channels:
        channel = await _start_channel(name, app)
        running.append(channel)
        senders.append(channel.sender)
        # A channel that can open its chat with a payload (Telegram's t.me links) offers it.
        start_link = start_link or getattr(channel, "start_link", None)
    running.append(await start_scheduler(app, senders))
    dashboard = await start_dashboard(app, start_link)
    running.append(dashboard if dashboard is not None else SwitchedOff())
    log.info("Buurtbot is running: %s", ", ".join(channels))
    return running
