"""The coordinators' web dashboard: login by link, overview, results, exports, flows.

Served by `buurtbot run` on `BUURTBOT_DASHBOARD_LISTEN`, in the same process and event
loop as the bot (aiohttp, like the Telegram webhook). Like a channel, it translates and
decides nothing: who may log in and what they may see come from `bot.community.logins`
and `bot.community.roles`; every number comes from `bot.reports`, with the report's
protection of small groups. See docs/dashboard.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.dashboard.parts import DashboardParts
from bot.dashboard.server import make_app

log = logging.getLogger(__name__)


@dataclass
class RunningDashboard:
    """The dashboard's web server, for the runner to stop."""

    runner: web.AppRunner
    address: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(app: DashboardParts) -> RunningDashboard | None:
    """Serve the dashboard, or None when `BUURTBOT_DASHBOARD_LISTEN` is empty."""
    address = app.settings.dashboard_address
    if address is None:
        return None
    host, port = address
    runner = web.AppRunner(make_app(app), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        # The bot itself matters more: it runs on, and the log says why there is no dashboard.
        await runner.cleanup()
        log.error(
            "The dashboard cannot listen on %s:%s (%s); set BUURTBOT_DASHBOARD_LISTEN",
            host,
            port,
            error.strerror or error,
        )
        return None
    shown = f"http://{host}:{port}"
    log.info("Dashboard on %s (people reach it at %s)", shown, app.settings.public_url)
    return RunningDashboard(runner, shown)
