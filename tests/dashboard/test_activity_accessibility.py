"""The activity and proposal pages checked by axe-core (WCAG 2.1 A and AA) in Dutch,
English and Arabic, at desktop and phone widths, nothing wider than the screen — the
form with its error messages too; their screenshots in docs/dashboard/ are made here
(`make screenshots`), as in test_accessibility.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import Participant
from bot.storage.models.community import Proposal, ProposalNote
from tests.dashboard.axe import WIDTHS, checking_context, screenshot_folder, violations
from tests.dashboard.conftest import AXE, Site
from tests.dashboard.test_activities import local_day

SHOTS = {"activities", "activity-form", "activity-cancel", "proposals", "proposal"}


async def made_up_work(site: Site) -> tuple[str, int]:
    """Two activities (with the command line) and a young person's proposal with a
    question and its answer (stored as the chat stores them); the first activity's id
    and the proposal's."""
    out = await site.cli(
        "activities",
        "add",
        "--title",
        "Buurtbarbecue",
        "--starts",
        f"{local_day(12)}T15:30",
        "--place",
        "Buurthuis De Schakel",
        "--neighbourhood",
        "centrum",
        "--capacity",
        "30",
        "--description",
        "Samen eten op het plein.",
    )
    first = out.strip().splitlines()[-1]
    await site.cli(
        "activities",
        "add",
        "--title",
        "Moestuin opruimen",
        "--starts",
        f"{local_day(20)}T10:00",
        "--place",
        "Moestuin De Riet",
        "--neighbourhood",
        "de-riet",
        "--age-group",
        "65+",
        "--interest",
        "green",
    )
    database = Database(site.env["BUURTBOT_DATABASE_URL"])
    try:
        async with database.transaction() as session:
            young = (
                await session.execute(
                    select(Participant).where(Participant.neighbourhood == "centrum").limit(1)
                )
            ).scalar_one()
            proposal = Proposal(
                participant_id=young.id,
                neighbourhood="centrum",
                status="open",
                details={
                    "what": "Een sportdag met barbecue voor de jongeren van de buurt",
                    "for_whom": ["youth"],
                    "where": "Het veldje bij de school",
                    "needs": ["space", "money"],
                    "organise": True,
                    "hear_back": "chat",
                },
            )
            session.add(proposal)
            await session.flush()
            session.add(
                ProposalNote(proposal_id=proposal.id, kind="question", text="Welke zaterdag?")
            )
            session.add(
                ProposalNote(
                    proposal_id=proposal.id, author_id=young.id, kind="answer", text="6 juni"
                )
            )
            proposal_id = proposal.id
    finally:
        await database.close()
    return first, proposal_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_serious_accessibility_problem_on_the_activity_pages(
    site: Site, browser, tmp_path: Path
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    activity_id, proposal_id = await made_up_work(site)
    pages = {
        "activities": "/activities",
        "activity-form": f"/activities/{activity_id}/edit",
        "activity-new": "/activities/new",
        "activity-cancel": f"/activities/{activity_id}/cancel",
        "proposals": "/proposals",
        "proposal": f"/proposals/{proposal_id}",
    }
    shots = screenshot_folder(tmp_path)
    problems: dict[str, list[dict]] = {}
    for width_name in WIDTHS:
        context = await checking_context(browser, width_name)
        page = await context.new_page()
        await page.goto(await site.admin_link() + "?lang=en")
        await page.get_by_role("button").last.click()
        await page.wait_for_url(site.url + "/")
        for language in ("nl", "en", "ar"):
            for name, path in pages.items():
                await page.goto(f"{site.url}{path}?lang={language}")
                await page.wait_for_load_state("networkidle")
                assert await page.evaluate("document.documentElement.lang") == language
                problems[f"{name} {language} {width_name}"] = await violations(page)
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert wide <= 0, (name, language, width_name, wide)
                if language == "en" and name in SHOTS:
                    await page.screenshot(
                        path=str(shots / f"{name}-{width_name}.png"), full_page=True
                    )
            # The form with its messages beside the fields.
            await page.goto(f"{site.url}/activities/new?lang={language}")
            await page.fill("#f-date", local_day(-2))
            await page.fill("#f-time", "10:00")
            await page.fill("#f-capacity", "0")
            await page.locator("form.activity button[type=submit]").click()
            await page.wait_for_load_state("networkidle")
            assert await page.locator(".errors li").count() == 3
            problems[f"form errors {language} {width_name}"] = await violations(page)
            if language == "en":
                await page.screenshot(
                    path=str(shots / f"activity-errors-{width_name}.png"), full_page=True
                )
        await context.close()
    serious = {
        where: [v for v in found if v["impact"] in ("serious", "critical")]
        for where, found in problems.items()
    }
    assert {where: found for where, found in serious.items() if found} == {}
    assert len(list(shots.glob("activit*.png")) + list(shots.glob("proposal*.png"))) >= 12
