"""The dashboard's HTTP side without a browser: headers, cookies, languages, refusals."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from bot.app import App, build
from bot.community.logins import create_link
from bot.dashboard.keys import DASHBOARD
from bot.dashboard.languages import choose, from_header
from bot.dashboard.server import CSP, make_app
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.postgres


async def _serve(app: App) -> TestServer:
    server = TestServer(make_app(app), host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def https_app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    built = build(make_settings(database_url, tmp_path, public_url="https://dashboard.example"))
    try:
        yield built
    finally:
        await built.close()


async def _logged_in(app: App, server: TestServer, client: ClientSession) -> str:
    async with app.database.transaction() as session:
        token = await create_link(session, app.settings.secret, admin=True)
    url = str(server.make_url(f"/login/{token}"))
    async with client.post(url, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
        return response.headers.getall("Set-Cookie")[0]


async def test_every_page_has_a_strict_csp_and_no_inline_script(app: App) -> None:
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await _logged_in(app, server, client)
            for path in ("/", "/results", "/exports", "/flows", "/logged-out", "/nowhere"):
                async with client.get(server.make_url(path)) as response:
                    assert response.headers["Content-Security-Policy"] == CSP, path
                    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
                    assert response.headers["Cache-Control"] == "no-store"
                    html = await response.text()
                    # Every <script> has a src on the dashboard itself, nothing inline.
                    for tag in re.findall(r"<script[^>]*>", html):
                        assert 'src="/static/' in tag, (path, tag)
                    assert not re.search(r"<[^>]+\son[a-z]+=", html), path
    finally:
        await server.close()


async def test_the_session_cookie_is_httponly_samesite_and_secure_on_https(
    https_app: App,
) -> None:
    server = await _serve(https_app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            cookie = await _logged_in(https_app, server, client)
    finally:
        await server.close()
    assert cookie.startswith("buurtbot_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


async def test_the_cookie_is_not_secure_on_plain_http(app: App) -> None:
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            cookie = await _logged_in(app, server, client)
    finally:
        await server.close()
    assert "HttpOnly" in cookie and "Secure" not in cookie


async def test_without_a_session_every_page_and_download_says_log_in(app: App) -> None:
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            for path in ("/", "/results", "/exports/answers?format=csv", "/flows", "/charts/x.svg"):
                async with client.get(server.make_url(path)) as response:
                    assert response.status == 401, path
                    assert "/dashboard" in await response.text()
            async with client.post(server.make_url("/logout")) as response:
                assert response.status == 401
    finally:
        await server.close()


async def test_a_form_from_another_site_cannot_use_a_login_link(app: App) -> None:
    async with app.database.transaction() as session:
        token = await create_link(session, app.settings.secret, admin=True)
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            url = server.make_url(f"/login/{token}")
            headers = {"Origin": "https://evil.example"}
            async with client.post(url, headers=headers, allow_redirects=False) as response:
                assert response.status == 403
            async with client.post(url, allow_redirects=False) as response:
                assert response.status == 303, "the link was not used up by the refused form"
    finally:
        await server.close()


async def test_bad_filters_get_a_clear_page_not_a_crash(app: App) -> None:
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await _logged_in(app, server, client)
            for path, status in (
                ("/results?flow=nope", 404),
                ("/results?since=yesterday&until=%F0%9F%98%80", 200),
                ("/results?neighbourhood=" + "x" * 2000, 403),
                ("/results?age_group=99", 404),
                ("/results?age_group=%F0%9F%98%80" + "x" * 2000, 404),
                ("/results?age_group=12-17", 200),
                ("/exports/answers?format=pdf", 400),
                ("/exports/answers?format=csv&flow=forget", 400),
                ("/charts/unknown.svg", 404),
            ):
                async with client.get(server.make_url(path)) as response:
                    assert response.status == status, (path, await response.text())
    finally:
        await server.close()


def test_the_browsers_languages_in_order() -> None:
    assert from_header("tr-TR,tr;q=0.9,en;q=0.8") == ["tr-tr", "tr", "en"]
    assert from_header("en;q=0.5, ar") == ["ar", "en"]
    assert from_header("*;q=0.1, de;q=0") == []


class _Request:
    def __init__(self, query: dict[str, str], cookies: dict[str, str], header: str):
        self.query, self.cookies, self.headers = query, cookies, {"Accept-Language": header}


def test_the_switch_wins_then_the_browser_then_the_default() -> None:
    offered = ["nl", "en", "tr", "ar", "pl", "uk"]
    assert choose(_Request({}, {}, "pl-PL,en;q=0.8"), offered, "nl") == "pl"
    assert choose(_Request({}, {"buurtbot_lang": "ar"}, "pl"), offered, "nl") == "ar"
    assert choose(_Request({"lang": "uk"}, {"buurtbot_lang": "ar"}, "pl"), offered, "nl") == "uk"
    assert choose(_Request({"lang": "xx"}, {}, "de, fr"), offered, "nl") == "nl"


def test_htmx_is_the_pinned_npm_package() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    vendored = (ROOT / "bot/dashboard/static/vendor/htmx.min.js").read_bytes()
    assert f'version:"{pinned}"'.encode() in vendored
    installed = ROOT / "node_modules/htmx.org/dist/htmx.min.js"
    if installed.exists():
        assert installed.read_bytes() == vendored, "make vendor"


async def test_buurtbot_health_says_where_the_dashboard_is_and_whether_it_answers(
    database_url: str, tmp_path: Path
) -> None:
    import asyncio
    import socket

    from bot.dashboard import SwitchedOff, start
    from bot.health import FILE, Heartbeat, check

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    built = build(make_settings(database_url, tmp_path, dashboard_listen=f"127.0.0.1:{port}"))
    path = tmp_path / FILE
    try:
        running = await start(built)
        assert running is not None and running.serving
        Heartbeat(path, {"dashboard": running}).write()
        ok, lines = await asyncio.to_thread(check, path)  # the CLI asks from outside the loop
        assert ok, lines
        line = next(x for x in lines if x.startswith("dashboard:"))
        assert line.startswith(f"dashboard: ok – on http://127.0.0.1:{port}; people reach it at ")
        assert re.search(r"answered in \d+ ms$", line), line
        # A second one on the same address: the bot runs on, health says why not.
        taken = await start(built)
        assert taken is not None and not taken.serving
        assert not taken.health().ok and "cannot listen on" in taken.health().detail
        await taken.stop()
        # Written down as on, but not answering (stopped without a new heartbeat).
        await running.stop()
        ok, lines = await asyncio.to_thread(check, path)
        assert not ok
        assert any(x.startswith("dashboard: NOT OK – ") and "did not answer" in x for x in lines)
        Heartbeat(path, {"dashboard": SwitchedOff()}).write()
        ok, lines = check(path)
        assert ok and "dashboard: ok – off (BUURTBOT_DASHBOARD_LISTEN is empty)" in lines
    finally:
        await built.close()


async def test_the_overview_shows_coordinators_the_running_processes(app: App) -> None:
    import socket

    from bot.storage.processes import JOBS, Presence

    presence = Presence(app.database, every=60)
    presence.want(JOBS)
    await presence.start()
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await _logged_in(app, server, client)
            async with client.get(server.make_url("/?lang=nl")) as response:
                dutch = await response.text()
            async with client.get(server.make_url("/?lang=en")) as response:
                html = await response.text()
        assert response.status == 200
        section = html[html.index('id="h-processes"') :]
        row = section[section.index("<tbody>") : section.index("</tbody>")]
        assert f"{presence.id} · <bdi>{socket.gethostname()}</bdi>" in row
        assert "Running" in row and "Scheduled jobs" in row and " s ago" in row
        assert f">{JOBS}<" not in row  # the role's name in words, not its code
        assert "Geplande taken" in dutch[dutch.index('id="h-processes"') :]
        # A worker of one neighbourhood does not see them.
        from tests.community.helpers import make_worker, participant

        worker = await participant(app, await make_worker(app, "w-processes"))
        async with app.database.transaction() as session:
            token = await create_link(session, app.settings.secret, worker)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with client.post(server.make_url(f"/login/{token}")) as response:
                assert response.status == 200
            async with client.get(server.make_url("/?lang=en")) as response:
                html = await response.text()
        assert response.status == 200 and "Upcoming activities" in html
        assert 'id="h-processes"' not in html and "Running processes" not in html
    finally:
        await server.close()
        await presence.stop()


async def test_the_overview_shows_activity_times_in_the_towns_own_time(app: App) -> None:
    """Stored in UTC, shown as the town reads a clock (18:30 UTC is 19:30 or 20:30 in
    Amsterdam), written out as the activities page and the chat write it."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from babel.dates import get_month_names

    from bot.community.activities import create_activity
    from bot.storage.models import utcnow

    starts = (utcnow() + timedelta(days=7)).replace(hour=18, minute=30, second=0, microsecond=0)
    local = starts.astimezone(ZoneInfo(app.settings.timezone))
    month = get_month_names("wide", locale="nl")[local.month]
    async with app.database.transaction() as session:
        await create_activity(
            session,
            title={"en": "Soup evening"},
            starts_at=starts,
            place="De Schakel",
            neighbourhoods=["kerkelanden"],
        )
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await _logged_in(app, server, client)
            async with client.get(server.make_url("/?lang=nl")) as response:
                html = await response.text()
        row = html[html.index("Soup evening") :]
        row = row[: row.index("</tr>")]
        assert f"{local.day} {month} om {local:%H:%M}" in row, row
        assert "18:30" not in row
    finally:
        await server.close()


async def test_messages_on_their_way_are_named_in_words(app: App) -> None:
    """The overview's outbox line says what waits in the viewer's language, not the
    outbox's own kind codes."""
    from bot import outbox
    from bot.storage.models import Participant, utcnow

    async with app.database.transaction() as session:
        person = Participant(channel="telegram", channel_user_id="7", consented_at=utcnow())
        session.add(person)
        await session.flush()
        await outbox.enqueue(session, person.id, "nudge", outbox.text("Nog even?"))
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            await _logged_in(app, server, client)
            async with client.get(server.make_url("/?lang=nl")) as response:
                html = await response.text()
            async with client.get(
                server.make_url("/overview/broadcasts?lang=en"), headers={"HX-Request": "true"}
            ) as response:
                part = await response.text()
        assert "Herinneringen om een gesprek af te maken: 1" in html
        assert "nudge" not in html
        assert "Reminders to finish a conversation: 1" in part
    finally:
        await server.close()


async def test_every_template_is_compiled_before_anyone_asks(app: App) -> None:
    server = await _serve(app)
    try:
        env = server.app[DASHBOARD].templates
        names = set(env.list_templates())
        async with asyncio.timeout(10):
            while {name for _, name in env.cache} != names:  # compiled in a thread at start
                await asyncio.sleep(0.02)
        assert len(names) > 20
    finally:
        await server.close()
