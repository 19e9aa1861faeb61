"""News, workers and the audit log over HTTP (no browser): bad input beside its field and
nothing saved, coordinators only, an invite by name, revoking ends the session."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.app import App
from bot.community import audit, news, roles
from bot.community.logins import create_link
from bot.dashboard.server import make_app
from bot.storage import participants
from bot.storage.models.community import AuditEntry, NeighbourhoodNews, WorkerInvite

pytestmark = pytest.mark.postgres
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def logged_in(
    app: App, *, worker: str | None = None, neighbourhoods: tuple[str, ...] = ()
) -> AsyncIterator[tuple[TestServer, ClientSession]]:
    """A client logged in as the operator, or as a worker (`worker`: their user id)."""
    server = TestServer(make_app(app), host="127.0.0.1")
    await server.start_server()
    try:
        async with app.database.transaction() as session:
            person = None
            if worker is not None:
                person = await participants.get_or_create(session, "telegram", worker)
                await roles.grant(session, person, neighbourhoods)
            token = await create_link(session, app.settings.secret, person, admin=person is None)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with client.post(server.make_url(f"/login/{token}")) as response:
                assert response.status == 200, await response.text()
            yield server, client
    finally:
        await server.close()


async def csrf(server: TestServer, client: ClientSession, path: str) -> str:
    async with client.get(server.make_url(path)) as response:
        assert response.status == 200, (path, await response.text())
        found = CSRF.search(await response.text())
    assert found
    return found.group(1)


async def news_rows(app: App) -> int:
    async with app.database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(NeighbourhoodNews)) or 0


def beside(html: str, field: str) -> str:
    """The error shown beside a field (its `e-<field>` paragraph), or ''."""
    found = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', html)
    return found.group(1) if found else ""


async def test_bad_news_gets_a_message_beside_its_field_and_nothing_is_saved(app: App) -> None:
    async with logged_in(app, worker="9001", neighbourhoods=("kerkelanden",)) as (server, client):
        token = await csrf(server, client, "/news?lang=en")
        cases = [
            ({"neighbourhood": "kerkelanden", "text": "  "}, "text", "This text is needed"),
            ({"neighbourhood": "kerkelanden", "text": "x" * 10_000}, "text", "too long"),
            (
                {"neighbourhood": "kerkelanden", "text": "Goed.", "text-tr": "ç" * 601},
                "text-tr",
                "too long",
            ),
            ({"neighbourhood": "centrum", "text": "Elders."}, "neighbourhood", "cannot write"),
            ({"neighbourhood": "nowhere", "text": "Nergens."}, "neighbourhood", "cannot write"),
        ]
        for fields, field, message in cases:
            async with client.post(
                server.make_url("/news?lang=en"), data={"csrf_token": token, **fields}
            ) as response:
                html = await response.text()
                assert response.status == 400, (field, html[:300])
            assert message in beside(html, field), (field, beside(html, field))
            assert 'class="errors"' in html
        assert await news_rows(app) == 0

        # Right-to-left text and emoji are fine: saved, then shown in the preview.
        async with client.post(
            server.make_url("/news?lang=en"),
            data={
                "csrf_token": token,
                "neighbourhood": "kerkelanden",
                "text": "Er komt een moestuin 🌱.",
                "text-ar": "ستكون هناك حديقة خضروات.",
            },
        ) as response:
            html = await response.text()
            assert response.status == 200 and "Saved." in html
    async with app.database.transaction() as session:
        assert await news.update_for(session, "kerkelanden") == {
            "_": "Er komt een moestuin 🌱.",
            "ar": "ستكون هناك حديقة خضروات.",
        }
        [entry] = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == audit.NEWS_WRITTEN))
        ).all()
    assert (entry.via, entry.subject) == (audit.DASHBOARD, "kerkelanden")


async def test_a_worker_gets_403_on_workers_and_the_audit_log(app: App) -> None:
    async with logged_in(app, worker="9002") as (server, client):
        token = await csrf(server, client, "/news")
        for path in ("/workers", "/audit", "/workers/1/revoke"):
            async with client.get(server.make_url(path + "?lang=en")) as response:
                assert response.status == 403, path
                assert "Only coordinators" in await response.text()
        async with client.post(
            server.make_url("/workers/invite"), data={"csrf_token": token, "name": "Sneaky"}
        ) as response:
            assert response.status == 403
        async with client.get(server.make_url("/")) as response:
            assert 'href="/workers"' not in await response.text()
    async with app.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(WorkerInvite)) == 0


async def test_an_invite_carries_the_name_and_bad_input_is_refused(app: App) -> None:
    async with logged_in(app) as (server, client):
        token = await csrf(server, client, "/workers?lang=en")
        for fields, field in (
            ({"name": ""}, "name"),
            ({"name": "x" * 10_000}, "name"),
            ({"name": "Fatima", "neighbourhoods": "nowhere"}, "neighbourhoods"),
        ):
            async with client.post(
                server.make_url("/workers/invite?lang=en"), data={"csrf_token": token, **fields}
            ) as response:
                html = await response.text()
                assert response.status == 400
                assert beside(html, field), (field, html[:500])
        async with app.database.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(WorkerInvite)) == 0
        async with client.post(
            server.make_url("/workers/invite?lang=en"),
            data={"csrf_token": token, "name": "Fatima", "neighbourhoods": "centrum"},
        ) as response:
            html = await response.text()
        code = re.search(r"/worker ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", html)
        assert code, html
        # A forged id to revoke: 404, nothing changes.
        for forged in ("99999999999", "abc", "0"):
            async with client.get(server.make_url(f"/workers/{forged}/revoke")) as response:
                assert response.status == 404, forged
        async with client.post(
            server.make_url("/workers/99999999999/revoke"), data={"csrf_token": token}
        ) as response:
            assert response.status == 404
    async with app.database.transaction() as session:
        person = await participants.get_or_create(session, "terminal", "new-worker")
        assert await roles.redeem(session, person, code.group(1), app.settings.secret) == [
            "centrum"
        ]
        assert person.worker_name == "Fatima" and person.worker_since is not None
        invite = (await session.scalars(select(WorkerInvite))).one()
        assert invite.worker_name is None  # it lives on the worker's row only now


async def test_the_audit_log_pages_back_newest_first(app: App) -> None:
    async with app.database.transaction() as session:
        for number in range(60):
            await audit.record(session, audit.Actor.operator(), audit.NEWS_WRITTEN, f"n{number}")
    async with logged_in(app) as (server, client):
        async with client.get(server.make_url("/audit?lang=en")) as response:
            first = await response.text()
        subjects = re.findall(r'<td class="text" dir="auto">(n\d+)</td>', first)
        assert subjects[:2] == ["n59", "n58"] and len(subjects) == 50
        older = re.search(r'href="/audit\?before=(\d+)">Older</a>', first)
        assert older and "Command line" in first and "Operator" in first
        async with client.get(
            server.make_url(f"/audit?lang=en&before={older.group(1)}")
        ) as response:
            second = await response.text()
        assert re.findall(r'<td class="text" dir="auto">(n\d+)</td>', second) == [
            f"n{number}" for number in range(9, -1, -1)
        ]
        assert "Older</a>" not in second and 'href="/audit">Newest</a>' in second
        # A forged page number is the first page, not an error.
        async with client.get(server.make_url("/audit?before=abc")) as response:
            assert response.status == 200


async def test_the_audit_log_names_neighbourhoods(app: App) -> None:
    """Recorded by key (`de-riet`, `*`), read by name, in the viewer's language."""
    async with app.database.transaction() as session:
        operator = audit.Actor.operator()
        await audit.record(session, operator, audit.WORKER_INVITED, "centrum, de-riet")
        await audit.record(session, operator, audit.WORKER_GRANTED, "P-KTNAZVK3FR: *")
    async with (
        logged_in(app) as (server, client),
        client.get(server.make_url("/audit?lang=nl")) as response,
    ):
        html = await response.text()
    about = re.findall(r'<td class="text" dir="auto">([^<]*)</td>', html)
    assert about == ["P-KTNAZVK3FR: de hele stad", "Centrum, De Riet / Nieuwland"]
