"""Dashboard logins: links once and for 15 minutes, sessions that end, /dashboard in chat."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import logins, roles
from bot.storage.models import utcnow
from bot.storage.models.dashboard import DashboardLink, DashboardSession
from tests.community.helpers import make_worker, onboard, participant
from tests.helpers import Person

pytestmark = pytest.mark.postgres
URL = re.compile(r"http://127\.0\.0\.1:8000/login/([A-Za-z0-9_-]{43})")


async def _link(app: App, person: Person, now=None) -> str:
    async with app.database.transaction() as session:
        found = await participant(app, person)
        found = await session.get(type(found), found.id)
        token = await logins.create_link(session, app.settings.secret, found, now=now)
    assert token is not None
    return token


async def _redeem(app: App, token: str) -> str | None:
    async with app.database.transaction() as session:
        return await logins.redeem_link(session, app.settings.secret, token)


async def _check(app: App, token: str, now=None) -> logins.Viewer | None:
    async with app.database.transaction() as session:
        return await logins.check_session(session, app.settings.secret, token, now=now)


async def test_a_link_logs_in_once_and_the_session_has_the_workers_neighbourhoods(
    app: App,
) -> None:
    worker = await make_worker(app, neighbourhoods=("kerkelanden", "centrum"))
    token = await _link(app, worker)
    session_token = await _redeem(app, token)
    assert session_token is not None
    assert await _redeem(app, token) is None, "a link works once"
    viewer = await _check(app, session_token)
    assert viewer is not None and not viewer.admin
    assert viewer.neighbourhoods == frozenset({"kerkelanden", "centrum"})
    assert viewer.may_see("centrum") and not viewer.may_see("hofkamp")
    async with app.database.transaction() as session:
        stored = (await session.execute(select(DashboardLink.token_hash))).scalars().all()
    assert token not in stored and len(stored[0]) == 64, "only a keyed hash is kept"


async def test_a_link_older_than_15_minutes_does_not_log_in(app: App) -> None:
    worker = await make_worker(app)
    token = await _link(app, worker, now=utcnow() - timedelta(minutes=15, seconds=1))
    async with app.database.transaction() as session:
        assert not await logins.link_usable(session, app.settings.secret, token)
    assert await _redeem(app, token) is None
    fresh = await _link(app, worker, now=utcnow() - timedelta(minutes=14))
    assert await _redeem(app, fresh) is not None


async def test_a_session_ends_after_8_hours_after_an_hour_unused_and_on_log_out(
    app: App,
) -> None:
    worker = await make_worker(app)
    token = await _redeem(app, await _link(app, worker))
    assert token is not None
    start = utcnow()
    # Used every 50 minutes, it lives 8 hours and no longer.
    moment = start
    while moment + timedelta(minutes=50) < start + logins.SESSION_TTL:
        moment += timedelta(minutes=50)
        assert await _check(app, token, now=moment) is not None, moment - start
    assert await _check(app, token, now=start + logins.SESSION_TTL) is None
    assert await _check(app, token, now=start) is None, "an ended session stays ended"

    idle = await _redeem(app, await _link(app, worker))
    assert idle is not None
    assert await _check(app, idle, now=utcnow() + timedelta(minutes=59)) is not None
    assert await _check(app, idle, now=utcnow() + timedelta(minutes=59 + 61)) is None

    out = await _redeem(app, await _link(app, worker))
    assert out is not None
    viewer = await _check(app, out)
    assert viewer is not None
    async with app.database.transaction() as session:
        await logins.end_session(session, viewer.session_id)
    assert await _check(app, out) is None


async def test_a_revoked_worker_is_logged_out_at_once_and_their_link_is_dead(app: App) -> None:
    worker = await make_worker(app)
    token = await _redeem(app, await _link(app, worker))
    unused = await _link(app, worker)
    assert token is not None and await _check(app, token) is not None
    async with app.database.transaction() as session:
        person = await participant(app, worker)
        person = await session.get(type(person), person.id)
        await roles.revoke(session, person)
    assert await _check(app, token) is None
    assert await _redeem(app, unused) is None
    async with app.database.transaction() as session:
        ended = (await session.execute(select(DashboardSession.ended_at))).scalars().all()
    assert all(ended), "the session row is ended, not only refused"


async def test_the_operators_link_sees_every_neighbourhood(app: App) -> None:
    async with app.database.transaction() as session:
        token = await logins.create_link(session, app.settings.secret, admin=True)
    assert token is not None
    viewer = await _check(app, await _redeem(app, token) or "")
    assert viewer is not None and viewer.admin and viewer.neighbourhoods is None


async def test_a_resident_gets_no_link(app: App) -> None:
    resident = Person(app.service, user_id="r1")
    await onboard(resident)
    async with app.database.transaction() as session:
        found = await participant(app, resident)
        assert await logins.create_link(session, app.settings.secret, found) is None


async def test_dashboard_in_the_chat_gives_a_worker_a_link_and_a_resident_the_usual_answer(
    app: App,
) -> None:
    app.settings.dashboard_listen = "127.0.0.1:8000"
    worker = await make_worker(app)
    reply = await worker.say("/dashboard")
    found = URL.search(reply)
    assert found, reply
    assert await _redeem(app, found.group(1)) is not None
    assert "15" in reply

    resident = Person(app.service, user_id="r1")
    await onboard(resident)
    reply = await resident.say("/dashboard")
    assert "only community workers" in reply
    assert "/login/" not in reply


async def test_dashboard_in_the_chat_when_there_is_no_dashboard(app: App) -> None:
    app.settings.dashboard_listen = ""
    worker = await make_worker(app)
    reply = await worker.say("/dashboard")
    assert "/login/" not in reply and "not switched on" in reply


async def test_links_and_sessions_over_for_a_day_are_deleted(app: App) -> None:
    worker = await make_worker(app)
    long_ago = utcnow() - timedelta(days=2)
    await _link(app, worker, now=long_ago)
    token = await _redeem(app, await _link(app, worker))
    assert token is not None
    viewer = await _check(app, token)
    assert viewer is not None
    async with app.database.transaction() as session:
        await logins.end_session(session, viewer.session_id, now=long_ago)
    await _link(app, worker)
    async with app.database.transaction() as session:
        links = (await session.execute(select(DashboardLink.created_at))).scalars().all()
        sessions = (await session.execute(select(DashboardSession.id))).scalars().all()
    assert len(links) == 2 and all(c > long_ago for c in links)
    assert sessions == []
