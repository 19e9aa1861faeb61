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
from bot.health import Health

log = logging.getLogger(__name__)


@dataclass
class RunningDashboard:
    """The dashboard's web server, for the runner to stop; a part of the heartbeat
    (`buurtbot health`): where it listens, and whether it could (`runner` None: the
    address was taken, `error` says why)."""

    runner: web.AppRunner | None
    address: str
    public_url: str = ""
    error: str = ""
    name: str = "dashboard"

    @property
    def serving(self) -> bool:
        return self.runner is not None

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def health(self) -> Health:
        """On, and where (`buurtbot health` then asks it for a page), or why not."""
        if self.runner is None:
            return Health(False, f"cannot listen on {self.address}: {self.error}")
        reach = f"; people reach it at {self.public_url}" if self.public_url else ""
        return Health(True, f"on {self.address}{reach}", url=self.address)


@dataclass
class SwitchedOff:
    """The dashboard's place in the heartbeat when `BUURTBOT_DASHBOARD_LISTEN` is empty."""

    name: str = "dashboard"

    async def stop(self) -> None:
        return None

    def health(self) -> Health:
        return Health(True, "off (BUURTBOT_DASHBOARD_LISTEN is empty)")


async def start(app: DashboardParts, start_link: str | None = None) -> RunningDashboard | None:
    """Serve the dashboard, or None when `BUURTBOT_DASHBOARD_LISTEN` is empty; when the
    address cannot be had, a `RunningDashboard` that is not serving (the bot runs on).
    `start_link`: a chat link with `{payload}` (the Telegram channel's), for invites."""
    address = app.settings.dashboard_address
    if address is None:
        return None
    host, port = address
    shown = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    runner = web.AppRunner(make_app(app, start_link), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        # The bot itself matters more: it runs on, and the log says why there is no dashboard.
        await runner.cleanup()
        why = str(error.strerror or error)
        log.error(
            "The dashboard cannot listen on %s:%s (%s); set BUURTBOT_DASHBOARD_LISTEN",
            host,
            port,
            why,
        )
        return RunningDashboard(None, shown, app.settings.public_url, why)
    log.info("Dashboard on %s (people reach it at %s)", shown, app.settings.public_url)
    return RunningDashboard(runner, shown, app.settings.public_url)
