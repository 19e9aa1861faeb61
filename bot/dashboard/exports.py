"""Exports: the answers as CSV or Excel, of the viewer's neighbourhoods only.

The file is `bot.reports.export`'s, the same as `/export` in the chat and
`buurtbot export answers`: pseudonymous, with contact details taken out of free text.
"""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.results import viewed_flows
from bot.dashboard.scope import Forbidden, choices, forbidden, neighbourhood_filter, viewer
from bot.reports.export import export_document

FORMATS = ("csv", "xlsx")


async def exports_page(request: web.Request) -> web.StreamResponse:
    return page(
        request,
        "exports.html",
        flows=await viewed_flows(request),
        neighbourhoods=choices(request),
    )


async def download(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    try:
        picked = neighbourhood_filter(request)
    except Forbidden:
        return forbidden(request)
    fmt = request.query.get("format", "xlsx")
    flow = request.query.get("flow") or None
    known = dict(await viewed_flows(request))  # the polls too, read into the library
    if fmt not in FORMATS or (flow is not None and flow not in known):
        return page(request, "error.html", status=400, reason="bad_request")
    if picked is not None:
        neighbourhoods: list[str] | None = [picked]
    elif who.neighbourhoods is not None:
        neighbourhoods = sorted(who.neighbourhoods)
    else:
        neighbourhoods = None
    document = await export_document(
        app.database,
        library=app.library,
        deployment=app.deployment,
        secret=app.settings.secret,
        translator=state.catalogs(request[LANGUAGE]),
        neighbourhoods=neighbourhoods,
        flow=flow,
        fmt=fmt,
        timezone=app.settings.timezone,
    )
    return web.Response(
        body=document.data,
        content_type=document.mime_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )
