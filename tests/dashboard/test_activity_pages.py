"""The activity and proposal pages over HTTP, without a browser: bad input gets its
message beside the field and saves nothing, out-of-scope and forged ids are refused,
every action lands in the audit log once (the browser journeys are in test_activities.py
and test_proposals.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import App
from bot.community import activities, audit, roles
from bot.community.logins import create_link
from bot.dashboard.server import make_app
from bot.storage.models import Participant, utcnow
from bot.storage.models.community import Proposal
from tests.community.helpers import make_worker, onboard, participant
from tests.helpers import Person

pytestmark = pytest.mark.postgres
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A logged-in HTTP client of the in-process dashboard."""

    server: TestServer
    client: ClientSession
    csrf: str = ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.client.get(self.server.make_url(path), allow_redirects=False) as found:
            text = await found.text()
        if match := TOKEN.search(text):
            self.csrf = match[1]
        return found.status, unescape(text)

    async def post(self, path: str, data: list[tuple[str, str]]) -> tuple[int, str, str]:
        form = [("csrf_token", self.csrf), *data]
        url = self.server.make_url(path)
        async with self.client.post(url, data=form, allow_redirects=False) as found:
            return found.status, unescape(await found.text()), found.headers.get("Location", "")


@pytest.fixture
async def server(app: App) -> AsyncIterator[TestServer]:
    running = TestServer(make_app(app), host="127.0.0.1")
    await running.start_server()
    try:
        yield running
    finally:
        await running.close()


async def log_in(app: App, server: TestServer, who: Participant | None = None) -> Browser:
    async with app.database.transaction() as session:
        if who is None:
            token = await create_link(session, app.settings.secret, admin=True)
        else:
            token = await create_link(
                session, app.settings.secret, await session.get(Participant, who.id)
            )
    client = ClientSession(cookie_jar=CookieJar(unsafe=True))
    async with client.post(server.make_url(f"/login/{token}"), allow_redirects=False) as response:
        assert response.status == 303
    browser = Browser(server, client)
    await browser.get("/activities?lang=en")
    return browser


def local(days: int, at: str = "14:00") -> tuple[str, str]:
    day = (utcnow() + timedelta(days=days)).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    return day.isoformat(), at


def activity_form(**values: str | list[str]) -> list[tuple[str, str]]:
    day, at = local(10)
    fields: dict[str, str | list[str]] = {
        "title_nl": "Buurtbarbecue",
        "title_tr": "Mahalle barbeküsü",
        "description_nl": "Samen eten op het plein.",
        "date": day,
        "time": at,
        "place": "Buurthuis De Schakel",
        "neighbourhoods": ["centrum"],
        "capacity": "",
    }
    fields.update(values)
    return [
        (name, one)
        for name, value in fields.items()
        for one in (value if isinstance(value, list) else [value])
    ]


def beside(html: str, field: str) -> str:
    """The error message shown beside `field` (empty when none)."""
    found = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', html)
    return found[1] if found else ""


async def logged(app: App) -> list[tuple[str, str, str]]:
    """The activity and proposal entries, oldest first (not those of making workers)."""
    async with app.database.transaction() as session:
        found = [(e.action, e.via, e.subject) for e in await audit.entries(session)][::-1]
    return [e for e in found if e[0].startswith(("activity.", "proposal."))]


async def test_an_activity_made_in_the_dashboard_keeps_its_translations(
    app: App, server: TestServer
) -> None:
    browser = await log_in(app, server)
    try:
        status, html = await browser.get("/activities/new?lang=en")
        assert status == 200
        for name in ("Türkçe", "English", "العربية"):
            assert f"Missing: people who read {name} get the Nederlands text." in html
        status, _, where = await browser.post(
            "/activities/new", activity_form(capacity="12", age_groups=["12-17"])
        )
        assert status == 303 and where.startswith("/activities?saved=")
        async with app.database.transaction() as session:
            [made] = await activities.upcoming(session)
        assert made.title == {"_": "Buurtbarbecue", "tr": "Mahalle barbeküsü"}
        assert made.capacity == 12 and made.neighbourhoods == ["centrum"]
        assert made.age_groups == ["12-17"]
        assert activities.title_in(made, "tr") == "Mahalle barbeküsü"
        assert activities.title_in(made, "en") == "Buurtbarbecue"  # the Dutch where missing
        assert await logged(app) == [("activity.created", "dashboard", f"activity {made.id}")]
        status, html = await browser.get(where)
        assert 'Saved: "Buurtbarbecue"' in html
        # Counts only, and the languages still missing.
        assert "English" in html and "Türkçe" not in html.split("Not translated")[1]
        # "Change" is a verb here, a difference on the results page: each its own word.
        status, html = await browser.get("/activities?lang=nl")
        assert f'href="/activities/{made.id}/edit"' in html
        edit = html[html.index(f'href="/activities/{made.id}/edit"') :]
        assert edit[edit.index(">") + 1 :].startswith("Wijzigen</a>")
        assert "Verschil" not in html
    finally:
        await browser.client.close()


BAD = [
    ({"title_nl": ""}, "title_nl", "Write a title."),
    ({"title_nl": "x" * 10_000}, "title_nl", "at most 120 characters"),
    ({"title_tr": "y" * 10_000}, "title_tr", "at most 120 characters"),
    ({"title_nl": "a🎉" * 5_000}, "title_nl", "at most 120 characters"),
    ({"description_ar": "🎉" * 10_000}, "description_ar", "at most 1000"),
    ({"title_nl": "مرحبا" * 2_000, "place": "🏠" * 10_000}, "place", "at most 200"),
    ({"title_nl": "🎉🎉"}, "title_nl", "only signs or emoji"),
    ({"date": local(-2)[0]}, "date", "in the past"),
    ({"date": "morgen"}, "date", "This is not a date"),
    ({"time": "25:99"}, "time", "This is not a time"),
    ({"time": ""}, "time", "Choose a time."),
    ({"capacity": "0"}, "capacity", "whole number"),
    ({"capacity": "veel"}, "capacity", "whole number"),
    ({"capacity": "-3"}, "capacity", "whole number"),
    ({"place": "p" * 10_000}, "place", "at most 200 characters"),
    ({"neighbourhoods": ["atlantis"]}, "neighbourhoods", "neighbourhoods you work in"),
    ({"age_groups": ["100+"]}, "age_groups", "Choose from the list."),
    ({"description_nl": "", "description_tr": "Birlikte"}, "description_nl", "first language"),
]


async def test_bad_input_gets_its_message_beside_the_field_and_saves_nothing(
    app: App, server: TestServer
) -> None:
    browser = await log_in(app, server)
    try:
        for values, field, message in BAD:
            status, html, _ = await browser.post("/activities/new", activity_form(**values))
            assert status == 400, values
            assert message in beside(html, field), (field, beside(html, field))
            assert 'aria-invalid="true"' in html and 'class="errors"' in html
        # Three at once: each beside its own field, the rest of what was typed kept.
        status, html, _ = await browser.post(
            "/activities/new",
            activity_form(title_nl="", date=local(-1)[0], capacity="nul", place="ساحة الحي"),
        )
        assert status == 400
        assert beside(html, "title_nl") and beside(html, "date") and beside(html, "capacity")
        assert 'value="ساحة الحي"' in html and 'value="Mahalle barbeküsü"' in html
        assert await logged(app) == []
        async with app.database.transaction() as session:
            assert await activities.upcoming(session, dated_only=False) == []
    finally:
        await browser.client.close()


async def test_a_worker_acts_only_in_their_own_neighbourhoods(app: App, server: TestServer) -> None:
    centrum = await participant(app, await make_worker(app, "w-centrum", ("centrum",)))
    async with app.database.transaction() as session:
        theirs = await activities.create_activity(
            session,
            title="Ons feest",
            starts_at=utcnow() + timedelta(days=5),
            neighbourhoods=["centrum"],
        )
        other = await activities.create_activity(
            session,
            title="Hun feest",
            starts_at=utcnow() + timedelta(days=5),
            neighbourhoods=["de-riet"],
        )
        town = await activities.create_activity(
            session, title="Stadsfeest", starts_at=utcnow() + timedelta(days=5)
        )
    browser = await log_in(app, server, centrum)
    try:
        status, html = await browser.get("/activities")
        assert "Ons feest" in html and "Hun feest" not in html and "Stadsfeest" not in html
        for activity in (other, town):
            for path in (f"/activities/{activity.id}/edit", f"/activities/{activity.id}/cancel"):
                assert (await browser.get(path))[0] == 403, path
                assert (await browser.post(path, activity_form()))[0] == 403, path
        for forged in ("abc", "0", "99999999999999999999", "-1"):
            assert (await browser.get(f"/activities/{forged}/edit"))[0] == 404
        # Making one elsewhere: the message beside the field, nothing saved.
        status, html, _ = await browser.post(
            "/activities/new", activity_form(neighbourhoods=["de-riet"])
        )
        assert status == 400 and "neighbourhoods you work in" in beside(html, "neighbourhoods")
        status, html, _ = await browser.post("/activities/new", activity_form(neighbourhoods=[]))
        assert status == 400 and "at least one" in beside(html, "neighbourhoods")
        # Their own: changed, and the change is theirs in the audit log.
        status, _, _ = await browser.post(
            f"/activities/{theirs.id}/edit", activity_form(title_nl="Ons grote feest")
        )
        assert status == 303
        status, html = await browser.get(f"/activities/{theirs.id}/cancel")
        assert status == 200 and "Yes, cancel it" in html
        status, _, where = await browser.post(f"/activities/{theirs.id}/cancel", [])
        assert status == 303 and where == f"/activities?cancelled={theirs.id}"
        assert (await browser.get(f"/activities/{theirs.id}/edit"))[0] == 409
        entries = await logged(app)
        assert [e[0] for e in entries] == ["activity.changed", "activity.cancelled"]
        async with app.database.transaction() as session:
            [first, *_] = await audit.entries(session)
        assert first.actor_id == centrum.id and first.via == "dashboard"
    finally:
        await browser.client.close()


async def test_an_edit_keeps_the_neighbourhoods_outside_the_workers(
    app: App, server: TestServer
) -> None:
    centrum = await participant(app, await make_worker(app, "w-centrum", ("centrum",)))
    async with app.database.transaction() as session:
        shared = await activities.create_activity(
            session,
            title="Samen",
            starts_at=utcnow() + timedelta(days=5),
            neighbourhoods=["centrum", "de-riet"],
        )
    browser = await log_in(app, server, centrum)
    try:
        status, html = await browser.get(f"/activities/{shared.id}/edit?lang=en")
        assert status == 200 and "Also for: De Riet / Nieuwland" in html
        status, _, _ = await browser.post(f"/activities/{shared.id}/edit", activity_form())
        assert status == 303
        async with app.database.transaction() as session:
            found = await session.get(type(shared), shared.id)
            assert found is not None and found.neighbourhoods == ["centrum", "de-riet"]
    finally:
        await browser.client.close()


async def proposal_from(app: App, young: Person, neighbourhood: str) -> int:
    await onboard(young, language="tr", neighbourhood=neighbourhood, age="12-17")
    await young.say("/propose")
    await young.say("Een sportdag met barbecue")
    await young.toggle("youth")
    await young.say("Het veldje bij de school")
    await young.say((utcnow() + timedelta(days=40)).strftime("%d-%m-%Y"))
    await young.toggle("space")
    await young.pick("yes")
    await young.pick("chat")
    async with app.database.transaction() as session:
        return (
            (await session.execute(select(Proposal.id).order_by(Proposal.id.desc())))
            .scalars()
            .first()
        )


async def test_proposals_outside_the_workers_neighbourhoods_are_refused(
    app: App, server: TestServer
) -> None:
    centrum = await participant(app, await make_worker(app, "w-centrum", ("centrum",)))
    elsewhere = await proposal_from(app, Person(app.service, user_id="y-1"), "de-riet")
    own = await proposal_from(app, Person(app.service, user_id="y-2"), "centrum")
    browser = await log_in(app, server, centrum)
    try:
        status, html = await browser.get("/proposals")
        assert status == 200 and f'href="/proposals/{own}"' in html
        assert f'href="/proposals/{elsewhere}"' not in html
        assert (await browser.get(f"/proposals/{elsewhere}"))[0] == 403
        for decision in ("approve", "ask", "decline"):
            found = await browser.post(f"/proposals/{elsewhere}/{decision}", [("reason", "x")])
            assert found[0] == 403
        assert (await browser.get("/proposals/99999999999999999999"))[0] == 404
        assert (await browser.get("/proposals?status=whatever"))[0] == 400
        # An empty reason: its message beside the field, nothing decided.
        status, html, _ = await browser.post(f"/proposals/{own}/decline", [("reason", " ")])
        assert status == 400 and "Write a few words" in beside(html, "reason")
        status, html, _ = await browser.post(f"/proposals/{own}/ask", [("question", "?" * 5)])
        assert status == 400 and "Write a few words" in beside(html, "question")
        async with app.database.transaction() as session:
            statuses = list((await session.execute(select(Proposal.status))).scalars())
        assert statuses == ["open", "open"]
        assert await logged(app) == []
        status, _, where = await browser.post(
            f"/proposals/{own}/decline", [("reason", "Geen geld")]
        )
        assert status == 303 and where == f"/proposals/{own}?done=declined"
        # Decided: a second decision is refused, nothing changes.
        status, html, _ = await browser.post(f"/proposals/{own}/approve", [])
        assert status == 409 and "already answered" in html
        assert [e[0] for e in await logged(app)] == ["proposal.declined"]
    finally:
        await browser.client.close()


async def test_the_operator_link_may_approve_without_a_worker_row(
    app: App, server: TestServer
) -> None:
    async with app.database.transaction() as session:
        assert await roles.workers_for(session, "centrum") == []
    young = Person(app.service, user_id="y-3")
    proposal_id = await proposal_from(app, young, "centrum")
    browser = await log_in(app, server)
    try:
        status, _, where = await browser.post(f"/proposals/{proposal_id}/approve", [])
        assert status == 303 and where.endswith("/edit?approved=1")
        status, html = await browser.get(where)
        assert status == 200 and "The young person is told" in html and "draft" in html
        assert [(e[0], e[1]) for e in await logged(app)] == [("proposal.approved", "dashboard")]
        async with app.database.transaction() as session:
            [entry, *_] = await audit.entries(session)
        assert entry.action == "proposal.approved" and entry.actor_pseudonym == audit.OPERATOR
    finally:
        await browser.client.close()
