"""What a viewer may see, asked of the request: their neighbourhoods, checked on the
server for every page and download (another neighbourhood in the URL gets 403)."""

from __future__ import annotations

from aiohttp import web

from bot.community.logins import Viewer
from bot.dashboard.keys import DASHBOARD, VIEWER
from bot.dashboard.render import page


class Forbidden(Exception):
    """A page or download outside the viewer's neighbourhoods."""


def viewer(request: web.Request) -> Viewer:
    return request[VIEWER]


def neighbourhood_filter(request: web.Request) -> str | None:
    """The `neighbourhood` asked for (None: all the viewer's); Forbidden if not theirs."""
    wanted = request.query.get("neighbourhood", "").strip()
    if not wanted:
        return None
    state = request.app[DASHBOARD]
    if state.app.deployment.neighbourhood(wanted) is None or not viewer(request).may_see(wanted):
        raise Forbidden(wanted)
    return wanted


def choices(request: web.Request) -> list[tuple[str, str]]:
    """The neighbourhoods the viewer may pick: (key, name)."""
    state = request.app[DASHBOARD]
    who = viewer(request)
    return [(n.key, n.name) for n in state.app.deployment.neighbourhoods if who.may_see(n.key)]


def forbidden(request: web.Request) -> web.Response:
    return page(request, "error.html", status=403, reason="forbidden")
