"""Proposals in a real browser (Debian's chromium) against `buurtbot run` with the fake
Bot API: a young person's idea from the chat is answered in the browser — a question,
their answer back on the page, the approval — and they hear each step in Turkish; the
draft activity is planned in the browser; a worker of another neighbourhood gets 403;
each decision is in the audit log once, as the dashboard's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.community import audit
from bot.i18n.catalogs import Catalogs
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.storage.models.community import Activity, Proposal
from tests.dashboard.conftest import Site
from tests.dashboard.telegram_chat import ChatPerson
from tests.dashboard.test_activities import local_day, log_in

pytestmark = pytest.mark.postgres
TR = Catalogs()("tr")
IDEA = "Een sportdag met barbecue"


async def propose(young: ChatPerson) -> None:
    """`/propose` in the chat, every step answered (Turkish buttons, by their place)."""
    young.user.send_command("propose")
    await young.type(IDEA)
    await young.press(0, "Bitti")  # for young people
    await young.type("Het veldje bij de school", keyboard=True)
    await young.type((utcnow() + timedelta(days=40)).strftime("%d-%m-%Y"), keyboard=True)
    await young.press(0, "Bitti")  # a place or a room
    await young.press(0)  # yes, they help organise it
    await young.press(0)  # hear back here in the chat


async def stored(site: Site, model, **where):
    database = Database(site.env["BUURTBOT_DATABASE_URL"])
    try:
        async with database.transaction() as session:
            query = select(model).filter_by(**where)
            return list((await session.execute(query)).scalars())
    finally:
        await database.close()


async def test_a_proposal_answered_in_the_browser_reaches_the_young_person(
    site: Site, browser
) -> None:
    _, link = await site.worker(7401, "centrum")
    emre = ChatPerson(site, site.telegram.user(8201, first_name="Emre", language_code="tr"))
    await emre.onboard("Centrum", age=0)
    await propose(emre)
    await emre.question(keyboard=False)  # thanked: the idea is stored
    [proposal] = await stored(site, Proposal)
    assert proposal.neighbourhood == "centrum" and proposal.status == "open"

    context, page = await log_in(browser, link)
    await page.goto(site.url + "/?lang=en")
    await page.get_by_role("link", name="Proposals", exact=True).click()
    assert await page.locator("nav.tabs [aria-current=page]").text_content() == "Open (1)"
    await page.get_by_role("link", name=IDEA).click()
    assert IDEA in await page.locator(".proposal-text").text_content()

    # A question, from the browser: it reaches the young person in the chat.
    await page.fill("#f-question", "Welke zaterdag past jullie?")
    await page.get_by_role("button", name="Send the question").click()
    await page.wait_for_url(re.compile(r"done=asked"))
    asked = await emre.said("Welke zaterdag past jullie?")
    assert "A community worker has a question" not in asked["text"]  # Turkish, not English
    await emre.type("Zaterdag 6 juni", on=asked)
    await emre.question(keyboard=False)  # thanked: the answer is stored
    await page.reload()
    assert "Zaterdag 6 juni" in await page.locator(".proposal-text").text_content()

    # A worker of another neighbourhood: 403 for the page and for a decision.
    _, other_link = await site.worker(7402, "de-riet")
    other, other_page = await log_in(browser, other_link)
    response = await other_page.goto(f"{site.url}/proposals/{proposal.id}")
    assert response.status == 403
    await other_page.goto(site.url + "/proposals")
    assert IDEA not in await other_page.locator("main").text_content()
    token = await other_page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = await other.request.post(
        f"{site.url}/proposals/{proposal.id}/approve", form={"csrf_token": token}
    )
    assert refused.status == 403
    await other.close()

    # Approved in the browser: the young person hears it in Turkish, and the draft
    # activity opens to be planned.
    await page.get_by_role("button", name="Approve it").click()
    await page.wait_for_url(re.compile(r"/activities/\d+/edit\?approved=1"))
    assert "The young person is told" in await page.locator(".notice").text_content()
    expected = TR.gettext(
        'Good news! The community workers like your idea "{idea}". '
        "It becomes an activity, and you help organise it. "
        "A community worker will contact you here."
    ).format(idea=IDEA)
    assert (await emre.said(expected))["text"] == expected
    assert await page.input_value("#f-title_nl") == IDEA
    await page.fill("#f-date", local_day(20))
    await page.fill("#f-time", "13:00")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(r"/activities\?saved=\d+"))
    [activity] = await stored(site, Activity)
    assert activity.status == "planned" and activity.neighbourhoods == ["centrum"]
    await page.goto(f"{site.url}/proposals/{proposal.id}")
    assert "Approved." in await page.locator("main").text_content()
    # Decided once: nothing left to press.
    assert await page.get_by_role("button", name="Approve it").count() == 0

    database = Database(site.env["BUURTBOT_DATABASE_URL"])
    try:
        async with database.transaction() as session:
            entries = [
                (e.action, e.via, e.subject)
                for e in await audit.entries(session)
                if e.action.startswith(("proposal.", "activity."))
            ]
    finally:
        await database.close()
    assert entries[::-1] == [
        (audit.PROPOSAL_ASKED, audit.DASHBOARD, f"proposal {proposal.id}"),
        (audit.PROPOSAL_APPROVED, audit.DASHBOARD, f"proposal {proposal.id}"),
        (audit.ACTIVITY_CHANGED, audit.DASHBOARD, f"activity {activity.id}"),
    ]
    await context.close()
