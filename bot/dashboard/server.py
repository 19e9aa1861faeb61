"""The dashboard's web application: routes, and the checks every request passes.

Every request gets security headers (a strict Content-Security-Policy: scripts, styles
and images only from the dashboard itself, no inline script), its language, and — for
every page but the login and the static files — a live session checked in the database
(`bot.community.logins.check_session`). A form posted without the session's CSRF token
is refused (403).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment

from bot.community.logins import check_session
from bot.dashboard import (
    activities,
    audit,
    exports,
    flows,
    login,
    news,
    overview,
    polls,
    proposals,
    results,
    sending,
    workers,
)
from bot.dashboard.charts import ChartStore
from bot.dashboard.cookies import SESSION_COOKIE
from bot.dashboard.counted import Counted
from bot.dashboard.keys import DASHBOARD, LANGUAGE, VIEWER
from bot.dashboard.languages import COOKIE, choose, own_name
from bot.dashboard.parts import DashboardParts
from bot.dashboard.recent import Recent
from bot.dashboard.render import compile_all, environment, page
from bot.i18n.catalogs import Catalogs

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PUBLIC = ("/login/", "/static/", "/logged-out", "/favicon.ico")
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Dashboard:
    """What every handler needs: the bot's parts, the templates, the languages."""

    app: DashboardParts
    catalogs: Catalogs
    templates: Environment
    languages: list[tuple[str, str]]
    counted: Counted
    charts: ChartStore = field(default_factory=ChartStore)
    recent: Recent = field(default_factory=Recent)
    #: A chat link that starts the bot with a payload (`{payload}` filled in), from the
    #: running Telegram channel; None when there is none (the code alone is shown).
    start_link: str | None = None

    @property
    def secure(self) -> bool:
        return self.app.settings.public_url.lower().startswith("https://")


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The login link's token is in the URL: never hand it on to another site. (Not
    # `no-referrer`: then the browser sends `Origin: null` with the dashboard's own forms.)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    state: Dashboard = request.app[DASHBOARD]
    offered = [code for code, _ in state.languages]
    request[LANGUAGE] = choose(request, offered, state.app.settings.default_language)
    response = await handler(request)
    if request.query.get("lang") in offered:
        response.set_cookie(
            COOKIE,
            request[LANGUAGE],
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=state.secure,
        )
    return response


@web.middleware
async def session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A live session for every page but the public ones; CSRF on every form."""
    if request.path.startswith(PUBLIC):
        if request.method == "POST" and not _same_origin(request):
            return _refused(request, "a form from another site")
        return await handler(request)
    state: Dashboard = request.app[DASHBOARD]
    token = request.cookies.get(SESSION_COOKIE, "")
    async with state.app.database.transaction() as db:
        viewer = await check_session(db, state.app.settings.secret, token)
    if viewer is None:
        response = page(request, "login_needed.html", status=401)
        if token:
            response.del_cookie(SESSION_COOKIE, path="/")
        return response
    request[VIEWER] = viewer
    state.counted.touch()  # someone uses the dashboard: its results are counted ahead
    if request.method not in ("GET", "HEAD"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            # Pages of text pasted into a form: say so in words, not aiohttp's status line.
            return page(request, "error.html", status=413, reason="too_large")
        sent = str(form.get("csrf_token") or request.headers.get("X-CSRF-Token") or "")
        if not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
            return _refused(request, "a form without the session's CSRF token")
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def _refused(request: web.Request, why: str) -> web.Response:
    log.warning("dashboard: %s %s refused: %s", request.method, request.path, why)
    return page(request, "error.html", status=403, reason="forbidden")


async def _favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


def make_app(app: DashboardParts, start_link: str | None = None) -> web.Application:
    """The aiohttp application of the dashboard for this bot."""
    settings = app.settings
    catalogs = app.catalogs
    state = Dashboard(
        app=app,
        catalogs=catalogs,
        templates=environment(),
        languages=[(code, own_name(code)) for code in settings.language_list],
        counted=Counted(
            app.database,
            app.library,
            app.deployment,
            catalogs(settings.default_language),
            settings.timezone,
        ),
        start_link=start_link,
    )
    # Forms only, no uploads; room for a form whose fields are each 10,000 characters of
    # emoji (12 bytes each, encoded), so that is told beside the field, not refused whole.
    web_app = web.Application(middlewares=[headers, language, session], client_max_size=1024 * 1024)
    web_app[DASHBOARD] = state

    async def counting_ahead(_: web.Application) -> AsyncIterator[None]:
        state.counted.start(lambda: [flow for flow, _ in results.reported_flows(app.library)])
        # The flows page reads every catalog the first time, and each page's template is
        # compiled the first time it is shown: done now, not while one waits.
        made = [
            asyncio.ensure_future(flows.made_ahead(settings)),
            asyncio.ensure_future(asyncio.to_thread(compile_all, state.templates)),
        ]
        yield
        await asyncio.gather(*made, return_exceptions=True)
        await state.counted.close()

    web_app.cleanup_ctx.append(counting_ahead)
    web_app.router.add_get("/", overview.overview_page)
    web_app.router.add_get("/overview/broadcasts", overview.broadcasts_part)
    web_app.router.add_get("/results", results.results_page)
    web_app.router.add_get("/charts/{key}.svg", results.chart)
    web_app.router.add_get("/exports", exports.exports_page)
    web_app.router.add_get("/exports/answers", exports.download)
    web_app.router.add_get("/flows", flows.flows_page)
    web_app.router.add_get("/news", news.news_page)
    web_app.router.add_post("/news", news.write_news)
    web_app.router.add_post("/news/preview", news.preview_part)
    web_app.router.add_get("/workers", workers.workers_page)
    web_app.router.add_post("/workers/invite", workers.invite)
    web_app.router.add_get("/workers/{id}/revoke", workers.revoke_page)
    web_app.router.add_post("/workers/{id}/revoke", workers.revoke)
    web_app.router.add_get("/audit", audit.audit_page)
    web_app.router.add_get("/send", sending.send_page)
    web_app.router.add_post("/send", sending.send)
    web_app.router.add_get("/send/summary", sending.summary_part)
    web_app.router.add_get("/send/batches", sending.batches_part)
    web_app.router.add_post("/send/batches/{batch}/stop", sending.stop)
    web_app.router.add_get("/polls", polls.polls_page)
    web_app.router.add_get("/polls/new", polls.new_poll_page)
    web_app.router.add_post("/polls/new", polls.create_poll)
    web_app.router.add_get("/activities", activities.activities_page)
    web_app.router.add_get("/activities/new", activities.new_activity_page)
    web_app.router.add_post("/activities/new", activities.create_activity)
    web_app.router.add_get(r"/activities/{id}/edit", activities.edit_activity_page)
    web_app.router.add_post(r"/activities/{id}/edit", activities.save_activity)
    web_app.router.add_get(r"/activities/{id}/cancel", activities.cancel_page)
    web_app.router.add_post(r"/activities/{id}/cancel", activities.cancel_activity)
    web_app.router.add_get("/proposals", proposals.proposals_page)
    web_app.router.add_get(r"/proposals/{id}", proposals.proposal_page)
    web_app.router.add_post(r"/proposals/{id}/{decision}", proposals.decide)
    web_app.router.add_get("/login/{token}", login.login_page)
    web_app.router.add_post("/login/{token}", login.log_in)
    web_app.router.add_post("/logout", login.log_out)
    web_app.router.add_get("/logged-out", login.logged_out)
    web_app.router.add_get("/favicon.ico", _favicon)
    web_app.router.add_static("/static/", STATIC, append_version=False)
    return web_app
