"""Activities in a real browser (Debian's chromium) against `buurtbot run` with the fake
Bot API: an activity made in the browser with a Turkish translation reaches a Turkish
resident in Turkish; a change of place and a cancellation reach those who said they
would come; a worker of another neighbourhood gets 403; a bad form shows each message
beside its field and saves nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n.catalogs import Catalogs
from bot.storage.models import utcnow
from tests.dashboard.conftest import DESKTOP, Site
from tests.dashboard.telegram_chat import ChatPerson

pytestmark = pytest.mark.postgres
TR = Catalogs()("tr")


def local_day(days: int) -> str:
    moment = utcnow() + timedelta(days=days)
    return moment.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()


async def log_in(browser, link: str):
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/$"))
    return context, page


async def listed(site: Site) -> list[str]:
    """The ids of `buurtbot activities list`."""
    out = await site.cli("activities", "list")
    return [line.split("\t")[0] for line in out.splitlines()[1:] if line[:1].isdigit()]


async def test_an_activity_made_in_the_browser_reaches_a_turkish_resident_in_turkish(
    site: Site, browser
) -> None:
    ayse = ChatPerson(site, site.telegram.user(8101, first_name="Ayşe", language_code="tr"))
    await ayse.onboard("Centrum", age=2)

    context, page = await log_in(browser, await site.admin_link())
    await page.goto(site.url + "/?lang=en")
    await page.get_by_role("link", name="Activities", exact=True).click()
    await page.get_by_role("link", name="New activity").click()
    assert await page.locator("h1").text_content() == "New activity"
    await page.fill("#f-title_nl", "Buurtbarbecue")
    await page.fill("#f-description_nl", "Samen eten op het plein.")
    await page.fill("#f-title_tr", "Mahalle barbeküsü")
    await page.fill("#f-description_tr", "Meydanda birlikte yemek yiyoruz.")
    await page.fill("#f-date", local_day(12))
    await page.fill("#f-time", "15:30")
    await page.fill("#f-place", "Buurthuis De Schakel")
    await page.get_by_label("Centrum").check()
    await page.fill("#f-capacity", "30")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(r"/activities\?saved=\d+"))
    assert 'Saved: "Buurtbarbecue"' in await page.locator(".notice").text_content()
    activity_id = page.url.rsplit("=", 1)[1]
    row = page.locator("tbody tr", has_text="Buurtbarbecue")
    # The languages still missing are named; Turkish is not among them.
    missing = await row.locator(".missing").text_content()
    assert "English" in missing and "Türkçe" not in missing

    # "Invite people" opens the Send page with this activity chosen.
    await row.get_by_role("link", name="Invite people to Buurtbarbecue").click()
    await page.wait_for_url(re.compile(r"/send\?"))
    assert await page.input_value("#f-what") == f"activity:{activity_id}"
    await page.goto(site.url + "/activities")
    # Invited with the command line here (the Send page has its own tests).
    out = await site.cli(
        "broadcast", "--activity", activity_id, "--neighbourhood", "centrum", "--language", "tr"
    )
    assert re.search(r"\b[1-9]\d*\b", out), out
    invitation = await ayse.said("Mahalle barbeküsü")
    text = invitation["text"]
    assert "Meydanda birlikte yemek yiyoruz." in text
    assert "Buurtbarbecue" not in text and "Samen eten" not in text
    await ayse.press(0, on=invitation)  # Yes, I will come (in Turkish)
    await ayse.question(keyboard=False)  # the bot's answer: her yes is stored
    await page.reload()
    going = (
        await page.locator("tbody tr", has_text="Buurtbarbecue").locator("td").nth(2).text_content()
    )
    assert going.strip().startswith("fewer than 5"), going  # one person: not a number

    # A new place, in the browser: who said yes is told, in Turkish.
    await row.get_by_role("link", name="Change Buurtbarbecue").click()
    assert await page.input_value("#f-title_tr") == "Mahalle barbeküsü"
    await page.fill("#f-place", "Sporthal Kerkelanden")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(r"/activities\?saved="))
    changed = (await ayse.said("Sporthal Kerkelanden"))["text"]
    head = TR.gettext('"{title}" has changed. It is now on {when}, at {place}.').split("{when}")[0]
    assert changed.startswith(head.format(title="Mahalle barbeküsü")), changed

    # Cancelled in the browser, after a confirmation: she is told, in Turkish.
    await (
        page.locator("tbody tr", has_text="Buurtbarbecue")
        .get_by_role("link", name="Cancel Buurtbarbecue")
        .click()
    )
    assert await page.locator("h1").text_content() == "Cancel an activity"
    await page.get_by_role("button", name="Yes, cancel it").click()
    await page.wait_for_url(re.compile(r"/activities\?cancelled="))
    assert "is cancelled" in await page.locator(".notice").text_content()
    told = (await ayse.said("iptal"))["text"]
    before, after = TR.gettext(
        '"{title}" on {when} is cancelled. Sorry! It will not take place.'
    ).split("{when}")
    assert told.startswith(before.format(title="Mahalle barbeküsü")) and told.endswith(after)
    assert activity_id not in await listed(site)
    assert await page.locator("tbody tr", has_text="Buurtbarbecue").count() == 0
    await context.close()


async def test_bad_input_and_other_neighbourhoods_in_the_browser(site: Site, browser) -> None:
    out = await site.cli(
        "activities",
        "add",
        "--title",
        "Hun feest",
        "--starts",
        f"{local_day(9)}T19:00",
        "--place",
        "Het plein",
        "--neighbourhood",
        "de-riet",
    )
    theirs = out.strip().splitlines()[-1]
    _, link = await site.worker(7301, "centrum")
    context, page = await log_in(browser, link)
    before = await listed(site)

    # Empty title, a day in the past, no number for the maximum: each beside its field.
    await page.goto(site.url + "/activities/new?lang=en")
    await page.fill("#f-date", local_day(-3))
    await page.fill("#f-time", "10:00")
    await page.fill("#f-title_tr", "Bir şey")
    await page.fill("#f-capacity", "veel")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_load_state()
    assert await page.locator("#e-title_nl").text_content() == "Write a title."
    assert "in the past" in await page.locator("#e-date").text_content()
    assert "whole number" in await page.locator("#e-capacity").text_content()
    assert await page.locator("#f-title_nl").get_attribute("aria-invalid") == "true"
    assert await page.locator(".errors li").count() == 3
    assert await page.input_value("#f-title_tr") == "Bir şey"  # what was typed stays
    # Their one neighbourhood is ticked for them; another cannot be picked at all.
    assert await page.get_by_label("Centrum").is_checked()
    assert await page.get_by_label("De Riet / Nieuwland").count() == 0
    # 10,000 characters and right-to-left text: a message, not a crash.
    await page.fill("#f-title_nl", "ا" * 10_000)
    await page.fill("#f-date", local_day(3))
    await page.fill("#f-capacity", "")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_load_state()
    assert "at most 120 characters" in await page.locator("#e-title_nl").text_content()
    assert await listed(site) == before  # nothing saved

    # Another neighbourhood's activity: not listed, and 403 to change or cancel it.
    await page.goto(site.url + "/activities?lang=en")
    assert "Hun feest" not in await page.locator("main").text_content()
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path in (f"/activities/{theirs}/edit", f"/activities/{theirs}/cancel"):
        response = await page.goto(site.url + path)
        assert response.status == 403, path
        assert "Not allowed" in await page.locator("h1").text_content()
        posted = await context.request.post(
            site.url + path,
            form={"csrf_token": token, "title_nl": "Van ons", "neighbourhoods": "centrum"},
        )
        assert posted.status == 403, path
    assert theirs in await listed(site)
    await context.close()
