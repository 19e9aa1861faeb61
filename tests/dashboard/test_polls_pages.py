"""The poll pages over HTTP, for a worker of one neighbourhood: they see their own polls
only, a forged neighbourhood gets 403 and saves nothing, "one more answer" saves nothing,
a good poll is saved once and audited as theirs, another neighbourhood's poll has no
results page for them."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession, CookieJar
from sqlalchemy import func, select

from bot.app import App
from bot.community import audit, polls
from bot.community.logins import create_link
from bot.i18n.catalogs import Catalogs
from bot.storage.models import Participant
from bot.storage.models.community import AuditEntry
from bot.storage.models.polls import Poll
from tests.community.helpers import make_worker, participant
from tests.dashboard.test_server import _serve

pytestmark = pytest.mark.postgres


async def _operator_poll(app: App, question: str, place: str) -> int:
    async with app.database.transaction() as session:
        poll, problems = await polls.create_poll(
            session,
            app.settings,
            app.deployment,
            app.parts.catalogs,
            audit.Actor.operator(),
            polls.PollDraft({"nl": question}, [{"nl": "Ja"}, {"nl": "Nee"}], [place]),
            None,
            Catalogs(default="nl")("en"),
        )
    assert poll is not None, problems
    return poll.id


async def _count(app: App) -> int:
    async with app.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Poll)) or 0)


async def test_a_worker_writes_a_poll_for_their_own_neighbourhood_only(app: App) -> None:
    worker = await make_worker(app, neighbourhoods=("kerkelanden",))
    row = await participant(app, worker)
    ours = await _operator_poll(app, "Wat vind je van de markt?", "kerkelanden")
    theirs = await _operator_poll(app, "Wat vind je van het plein?", "centrum")
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with app.database.transaction() as session:
                found = await session.get(Participant, row.id)
                token = await create_link(session, app.settings.secret, found)
            async with client.post(server.make_url(f"/login/{token}")) as response:
                assert response.status == 200
            async with client.get(server.make_url("/polls?lang=en")) as response:
                listed = await response.text()
            assert "Wat vind je van de markt?" in listed and "het plein" not in listed
            async with client.get(server.make_url(f"/results?flow=poll-{ours}")) as response:
                assert response.status == 200
            async with client.get(server.make_url(f"/results?flow=poll-{theirs}")) as response:
                assert response.status == 404
            async with client.get(server.make_url("/polls/new?lang=en")) as response:
                form = await response.text()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            good = {
                "csrf_token": csrf[1],
                "rows": "3",
                "question-nl": "Wil je een moestuin?",
                "question-ar": "هل تريد حديقة خضار؟",
                "option-1-nl": "Ja",
                "option-1-ar": "نعم",
                "option-2-nl": "Nee",
                "neighbourhoods": "kerkelanden",
            }
            before = await _count(app)
            # Without the session's token, and with another neighbourhood: refused.
            async with client.post(
                server.make_url("/polls/new"), data={**good, "csrf_token": "forged"}
            ) as response:
                assert response.status == 403
            async with client.post(
                server.make_url("/polls/new"), data={**good, "neighbourhoods": "centrum"}
            ) as response:
                assert response.status == 403
            # One more answer: the form again with a fourth row, nothing saved.
            async with client.post(
                server.make_url("/polls/new?lang=en"), data={**good, "action": "more"}
            ) as response:
                again = await response.text()
            assert response.status == 200 and 'id="f-option-4-nl"' in again
            assert 'value="هل تريد حديقة خضار؟"' not in again  # a textarea, kept as text
            assert "هل تريد حديقة خضار؟" in again
            assert await _count(app) == before
            # Saved once, audited as this worker's.
            async with client.post(
                server.make_url("/polls/new"),
                data={**good, "action": "save"},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                assert re.fullmatch(r"/polls\?created=poll-\d+", response.headers["Location"])
            assert await _count(app) == before + 1
    finally:
        await server.close()
    async with app.database.transaction() as session:
        entry = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == audit.POLL_CREATED)
                .order_by(AuditEntry.id.desc())
            )
        ).first()
    assert entry is not None and entry.actor_id == row.id and entry.via == audit.DASHBOARD


async def test_pages_of_pasted_text_get_a_clear_page_and_save_nothing(app: App) -> None:
    server = await _serve(app)
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with app.database.transaction() as session:
                token = await create_link(session, app.settings.secret, admin=True)
            async with client.post(server.make_url(f"/login/{token}")) as response:
                assert response.status == 200
            async with client.get(server.make_url("/polls/new?lang=en")) as response:
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
            assert csrf is not None
            # A form larger than the dashboard takes (1 MB): a page that says so.
            data = {
                "csrf_token": csrf[1],
                "question-nl": "🌳" * 300_000,  # 1.2 MB, three times that as a form
                "option-1-nl": "Ja",
                "option-2-nl": "Nee",
                "neighbourhoods": "centrum",
            }
            async with client.post(server.make_url("/polls/new?lang=en"), data=data) as response:
                assert response.status == 413
                assert "This is too much text at once." in await response.text()
            # 10,000 characters, emoji or not, are taken and refused beside the field.
            for pasted in ("🌳" * 10_000, "x" * 10_000):
                data["question-nl"] = pasted
                url = server.make_url("/polls/new?lang=en")
                async with client.post(url, data=data) as response:
                    assert response.status == 422
                    text = await response.text()
                    assert "This is too long: at most 1000 characters." in text
    finally:
        await server.close()
    assert await _count(app) == 0
