"""Logging in with a single-use link, and out.

Opening the link shows a page with one button; the link is used only when that button
is pressed (a POST). Chat apps and mail scanners open links to show a preview; with a
plain GET they would use up the link before the worker does.
"""

from __future__ import annotations

from aiohttp import web

from bot.community.logins import end_session, link_usable, redeem_link
from bot.dashboard.cookies import clear_session_cookie, set_session_cookie
from bot.dashboard.keys import DASHBOARD, VIEWER
from bot.dashboard.render import page


async def login_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    token = request.match_info["token"]
    async with state.app.database.transaction() as db:
        usable = await link_usable(db, state.app.settings.secret, token)
    if not usable:
        return page(request, "login_refused.html", status=403)
    return page(request, "login.html", token=token)


async def log_in(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    token = request.match_info["token"]
    async with state.app.database.transaction() as db:
        session_token = await redeem_link(db, state.app.settings.secret, token)
    if session_token is None:
        return page(request, "login_refused.html", status=403)
    response = web.HTTPSeeOther("/")
    set_session_cookie(request, response, session_token)
    raise response


async def log_out(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    async with state.app.database.transaction() as db:
        await end_session(db, request[VIEWER].session_id)
    response = web.HTTPSeeOther("/logged-out")
    clear_session_cookie(response)
    raise response


async def logged_out(request: web.Request) -> web.StreamResponse:
    return page(request, "logged_out.html")
