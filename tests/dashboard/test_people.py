"""News, workers and the audit log in a real browser (Debian's chromium via Playwright)
against `buurtbot run` with the fake Bot API: the browser's action reaches people.

- A coordinator writes a neighbourhood's news with a Turkish translation; a Turkish
  resident's check-in, sent over the fake Bot API, says it in Turkish.
- A coordinator invites a worker by name; the person sends `/worker CODE`, shows up in the
  list with that name, is revoked in the browser, and their open dashboard page stops
  working at its next request. A worker gets 403 on the workers' page and the audit log.
- The audit log shows what was done in the chat and in the dashboard.
- Bad input gets its message beside the field; axe-core finds nothing serious on the new
  pages (nl, en; desktop, phone); the screenshots for docs/dashboard/ are made here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.community.telegram.test_end_to_end import onboard
from tests.dashboard.axe import screenshot_folder, violations
from tests.dashboard.conftest import AXE, DESKTOP, PHONE, Site

pytestmark = pytest.mark.postgres

NEWS_NL = "Veel mensen willen een moestuin. We beginnen in mei bij De Schakel."
NEWS_TR = "Birçoğunuz bir sebze bahçesi istiyor. Mayısta De Schakel'de başlıyoruz."
PAGES = {"news": "/news?neighbourhood=kerkelanden", "workers": "/workers", "audit": "/audit"}


async def log_in(browser, link: str, viewport=DESKTOP, **options):
    context = await browser.new_context(viewport=viewport, locale="en-GB", **options)
    page = await context.new_page()
    await page.goto(link + "?lang=en")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/(\?.*)?$"))
    return context, page


async def test_news_reaches_a_turkish_resident_and_a_revoked_workers_page_stops(
    site: Site, browser, tmp_path: Path
) -> None:
    admin, page = await log_in(browser, await site.admin_link())

    # News: every neighbourhood still without news, then the form.
    await page.get_by_role("link", name="News").click()
    await page.wait_for_url(site.url + "/news")
    rows = page.locator("table.news-list tbody tr")
    assert await rows.count() >= 5
    assert await page.locator("td.missing").count() == await rows.count()

    # Bad input: the message beside the field, nothing saved.
    await page.select_option("#f-neighbourhood", "kerkelanden")
    await page.fill("#f-text", "x" * 10_000)
    await page.get_by_role("button", name="Save").click()
    assert "too long" in await page.locator("#e-text").text_content()
    assert await page.locator("#errors").is_visible()
    await page.fill("#f-text", "")
    await page.get_by_role("button", name="Save").click()
    assert "This text is needed" in await page.locator("#e-text").text_content()
    assert await page.locator("td.missing").count() == await rows.count()

    # The news with its Turkish translation; the preview shows the check-in in Turkish.
    await page.fill("#f-text", NEWS_NL)
    await page.fill("#f-text-tr", NEWS_TR)
    turkish = page.locator('article.phone[lang="tr"]')
    await turkish.get_by_text(NEWS_TR).wait_for()
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(r"saved=kerkelanden"))
    assert "Residents of Kerkelanden read this" in await page.locator(".saved").text_content()
    assert await page.locator("td.missing").count() == await rows.count() - 1
    assert NEWS_TR in await page.locator('article.phone[lang="tr"]').text_content()
    polish = await page.locator('article.phone[lang="pl"]').text_content()
    assert NEWS_NL in polish and "No translation" in polish

    # A Turkish resident of Kerkelanden gets the check-in in Turkish, with the news.
    resident = site.telegram.user(7301, first_name="Emre", language_code="tr")
    await onboard(site.telegram, resident, "tr", "Kerkelanden")
    await site.cli("broadcast", "--flow", "checkin", "-n", "kerkelanden", "--language", "tr")
    checkin = await site.said(resident, NEWS_TR)
    assert NEWS_NL not in checkin

    # Workers: an invite by name, redeemed in the chat.
    await page.get_by_role("link", name="Workers").click()
    await page.get_by_role("button", name="Make an invite").click()
    assert await page.locator("#e-name").text_content()  # no name: refused
    await page.fill("#f-name", "Fatima, jongerenwerk")
    await page.get_by_label("Centrum").check()
    await page.get_by_role("button", name="Make an invite").click()
    shown = await page.locator(".invite-code").text_content()
    code = re.search(r"/worker ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", shown or "")
    assert code, shown
    # The link opens the chat with `/start w-CODE` (Telegram sends the payload so).
    link = await page.locator("a.invite-link").get_attribute("href")
    assert link == f"https://t.me/{site.telegram.bot_username}?start=w-{code.group(1)}"
    fatima = site.telegram.user(7302, first_name="Fa", language_code="en")
    fatima.send_command("start", link.partition("?start=")[2])
    await site.said(fatima, "community worker for Centrum")
    await page.goto(site.url + "/workers")
    row = page.locator("table.workers tbody tr", has_text="Fatima, jongerenwerk")
    assert "Centrum" in await row.text_content()
    assert re.search(r"P-[A-Z2-7]{10}", await row.text_content())
    assert "7302" not in await row.text_content()

    # Fatima logs in with /dashboard; a worker is refused the workers' page and the log.
    fatima.send_command("dashboard")
    link = re.search(r"http://\S+/login/\S+", await site.said(fatima, "/login/"))
    assert link
    worker, wpage = await log_in(browser, link.group(0))
    assert await wpage.get_by_role("link", name="Workers").count() == 0
    for path in ("/workers", "/audit"):
        response = await wpage.goto(site.url + path)
        assert response.status == 403, path
        assert "Only coordinators" in await wpage.content()
    await wpage.goto(site.url + "/news")
    options = await wpage.locator("#f-neighbourhood option").all_text_contents()
    assert options == ["Centrum"], "a worker writes news for their own neighbourhoods only"

    # Revoked in the browser: her open page stops working at its next request.
    await row.get_by_role("link", name="Revoke").click()
    assert "Revoke Fatima, jongerenwerk?" in await page.locator("h1").text_content()
    await page.get_by_role("button", name="Yes, revoke").click()
    await page.wait_for_url(re.compile(r"/workers\?revoked="))
    assert await page.locator("table.workers tbody tr", has_text="Fatima").count() == 0
    await wpage.fill("#f-text", "Het park krijgt nieuwe banken.")
    await wpage.get_by_role("button", name="Save").click()
    assert "You are not logged in" in await wpage.content()
    assert (await wpage.goto(site.url + "/news")).status == 401

    # The audit log: the dashboard's and the chat's actions, newest first.
    await page.get_by_role("link", name="Audit log").click()
    await page.wait_for_url(site.url + "/audit")
    entries = [
        [cell.strip() for cell in await tr.locator("td, th").all_text_contents()]
        for tr in await page.locator("table.audit tbody tr").all()
    ]
    whats = [entry[2] for entry in entries]
    assert whats[:5] == [
        "Revoked a worker",
        "Became a worker with an invite code",
        "Invited a worker",
        "Sent a poll",  # the check-in, by `buurtbot broadcast` above
        "Wrote the neighbourhood news",
    ], entries
    assert entries[0][1] == "Operator" and entries[0][4] == "Dashboard"
    assert entries[1][1].startswith("Fatima, jongerenwerk") and entries[1][4] == "Chat"
    assert entries[3][4] == "Command line" and entries[4][3] == "Kerkelanden"  # by its name
    # What was sent, in words: the conversation by its title, the neighbourhood by its name.
    assert re.fullmatch(
        r"conversation “What happened with your answers”: \d+ (person|people) in Kerkelanden"
        r" \(batch \S+\)",
        entries[3][3],
    ), entries[3]

    # A worker made on the command line shows in the list and the log, as the operator's.
    await site.cli(
        "workers",
        "grant",
        "--channel",
        "telegram",
        "--user-id",
        "7303",
        "--name",
        "Sam, opbouwwerk",
        "--neighbourhood",
        "kerkelanden",
    )
    await page.goto(site.url + "/audit?lang=en")
    newest = await page.locator("table.audit tbody tr").first.text_content()
    assert "Made someone a worker" in newest and "Command line" in newest
    await page.goto(site.url + "/workers?lang=en")
    assert "Sam, opbouwwerk" in await page.locator("table.workers").text_content()

    # The pages in Dutch, and on a phone, checked by axe-core; the screenshots.
    await check_pages(site, browser, tmp_path)
    for context in (admin, worker):
        await context.close()


async def check_pages(site: Site, browser, tmp_path: Path) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    shots = screenshot_folder(tmp_path)
    problems: dict[str, list[dict]] = {}
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page = await log_in(
            browser,
            await site.admin_link(),
            viewport,
            bypass_csp=True,
            is_mobile=width == "phone",
            has_touch=width == "phone",
        )
        for language in ("nl", "en"):
            for name, path in PAGES.items():
                separator = "&" if "?" in path else "?"
                await page.goto(f"{site.url}{path}{separator}lang={language}")
                await page.wait_for_load_state("networkidle")
                problems[f"{name} {language} {width}"] = await violations(page)
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert wide <= 0, (name, language, width, wide)
                if language == "en":
                    await page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            # Asking before revoking, and a form with its errors shown, too.
            await page.goto(f"{site.url}/workers?lang={language}")
            await page.locator("table.workers a.button").first.click()
            await page.wait_for_load_state("networkidle")
            problems[f"revoke {language} {width}"] = await violations(page)
            await page.goto(f"{site.url}/workers?lang={language}")
            await page.locator("form.invite button[type=submit]").click()
            await page.wait_for_load_state("networkidle")
            problems[f"workers errors {language} {width}"] = await violations(page)
        await context.close()
    serious = {
        where: [v for v in found if v["impact"] in ("serious", "critical")]
        for where, found in problems.items()
    }
    assert {where: found for where, found in serious.items() if found} == {}
