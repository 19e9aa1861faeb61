"""The session cookie: HttpOnly, SameSite=Lax, Secure when the dashboard is on https."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.keys import DASHBOARD

SESSION_COOKIE = "buurtbot_session"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=request.app[DASHBOARD].secure,
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
