"""The dashboard in a real browser (Debian's chromium via Playwright) against `buurtbot
run` with the fake Bot API, on SQLite and PostgreSQL: the journeys of the issue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.community import logins
from bot.storage.db import Database
from bot.storage.models import utcnow
from tests.dashboard.conftest import DESKTOP, SMALL, Site

pytestmark = pytest.mark.postgres
HIDDEN = ("fewer than 5", "not shown", "0")

TABLES_JS = """
() => Array.from(document.querySelectorAll('section.block')).map(s => ({
  title: s.querySelector('h3').textContent.trim(),
  head: Array.from(s.querySelectorAll('thead th')).map(x => x.textContent.trim()),
  rows: Array.from(s.querySelectorAll('tbody tr')).map(tr => Array.from(tr.children).map(c => {
    const k = c.cloneNode(true);
    k.querySelectorAll('.pct').forEach(p => p.remove());
    return k.textContent.trim();
  })),
}))
"""


def report_tables(markdown: str) -> dict[str, list[list[str]]]:
    """The tables of `report.md` by their `###` heading: body rows as cell texts."""
    tables: dict[str, list[list[str]]] = {}
    title = None
    for line in markdown.splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
            tables[title] = []
        elif title is not None and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            tables[title].append(cells)
        elif not line.strip() and title is not None and tables[title]:
            title = None
    return {name: rows[1:] for name, rows in tables.items()}  # without the header row


async def report_of(site: Site, *args: str) -> dict[str, list[list[str]]]:
    folder = site.cwd / f"report-{len(args)}-{'-'.join(args) or 'all'}"
    await site.cli(
        "report", "--language", "en", "--flow", "what-matters", "--output", str(folder), *args
    )
    return report_tables((folder / "report.md").read_text(encoding="utf-8"))


async def page_tables(page) -> dict[str, dict]:
    return {table["title"]: table for table in await page.evaluate(TABLES_JS)}


def assert_same_numbers(shown: dict[str, dict], report: dict[str, list[list[str]]]) -> None:
    common = [title for title in shown if title in report]
    assert len(common) >= 5, (list(shown), list(report))
    for title in common:
        assert shown[title]["rows"] == report[title], title


async def test_login_pages_numbers_scope_csrf_and_logout(site: Site, browser) -> None:
    csp_problems: list[str] = []

    async def new_page(context):
        page = await context.new_page()
        page.on(
            "console",
            lambda message: (
                csp_problems.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    # The coordinator logs in with the operator's link.
    admin_link = await site.admin_link()
    assert admin_link.startswith(site.url + "/login/")
    admin = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await new_page(admin)
    await page.goto(admin_link)
    assert await page.title() == "Log in · Buurtbot"
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(site.url + "/")
    assert await page.locator("h1").text_content() == "Overview"
    assert await page.evaluate("typeof htmx") == "object", "htmx is served by the dashboard"

    # The overview: participants per neighbourhood, the small one hidden.
    rows = {
        row[0]: row[1:]
        for row in (await page_tables(page))["Participants by neighbourhood"]["rows"]
    }
    per = site.seeded.per_neighbourhood
    names = {"centrum": "Centrum", "de-riet": "De Riet / Nieuwland", "kerkelanden": "Kerkelanden"}
    for key, name in names.items():
        # Shown as seeded, or hidden so that haghoek's 3 cannot be worked out from the total.
        assert rows[name][0] in (str(per[key]), "not shown"), (name, rows[name])
    assert sum(rows[name][0] == str(per[key]) for key, name in names.items()) >= 2, rows
    assert rows["Haghoek / Aalderinkshoek"][0] == "fewer than 5"
    assert rows["Total"][0] == str(sum(per.values()))

    # The link works once.
    second = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    other = await new_page(second)
    response = await other.goto(admin_link)
    assert response.status == 403
    assert "This link does not work" in await other.content()

    # Results: the report's numbers, in the browser.
    await page.goto(site.url + "/results?flow=what-matters&lang=en")
    shown = await page_tables(page)
    assert_same_numbers(shown, await report_of(site))
    # The hidden group is hidden here too: no number in its column but 0.
    for table in shown.values():
        if "Haghoek / Aalderinkshoek" in table["head"]:
            j = table["head"].index("Haghoek / Aalderinkshoek")
            for row in table["rows"]:
                assert row[j] in HIDDEN, (table["title"], row)
    await page.goto(site.url + f"/results?flow=what-matters&neighbourhood={SMALL}")
    for table in (await page_tables(page)).values():
        for row in table["rows"]:
            assert all(cell in HIDDEN for cell in row[1:]), (table["title"], row)
    # Two periods compared: the report's comparison, too.
    await page.goto(site.url + "/results?flow=what-matters&compare=this-month")
    compared = await page_tables(page)
    report = await report_of(site, "--compare", "this-month")
    titles = [title for title in compared if title.endswith(": People who answered")]
    assert titles and all(compared[t]["rows"] == report[t] for t in titles), titles
    # Charts are SVG drawn by the report's chart code, loaded under the strict CSP.
    await page.goto(site.url + "/results?flow=what-matters")
    await page.wait_for_load_state("networkidle")
    first_chart = page.locator("figure.chart img").first
    assert await first_chart.evaluate("img => img.complete && img.naturalWidth") > 500

    # The filters work through htmx, without a new page.
    await page.select_option("#f-neighbourhood", "centrum")
    await page.wait_for_url(re.compile(r"neighbourhood=centrum"))
    assert "Centrum" in (await page_tables(page))["People who answered"]["head"][1]

    # A worker of Centrum, made in the chat, logs in with the link /dashboard gave them.
    worker_user, worker_link = await site.worker(7001, "centrum")
    worker = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    wpage = await new_page(worker)
    await wpage.goto(worker_link)
    await wpage.get_by_role("button", name="Log in").click()
    await wpage.wait_for_url(site.url + "/")
    assert "You see your neighbourhoods only." in await wpage.content()
    await wpage.goto(site.url + "/results?flow=what-matters")
    assert_same_numbers(
        await page_tables(wpage), await report_of(site, "--neighbourhood", "centrum")
    )
    # Another neighbourhood in the URL: 403, for the page and for the download.
    response = await wpage.goto(site.url + "/results?flow=what-matters&neighbourhood=de-riet")
    assert response.status == 403
    download = await worker.request.get(
        site.url + "/exports/answers?format=csv&neighbourhood=de-riet"
    )
    assert download.status == 403
    own = await worker.request.get(site.url + "/exports/answers?format=csv")
    assert own.status == 200 and "attachment" in own.headers["content-disposition"]
    assert len((await own.text()).splitlines()) > 1
    # The exports page downloads through the browser too.
    await wpage.goto(site.url + "/exports")
    async with wpage.expect_download() as waiting:
        await wpage.get_by_role("button", name="Download").click()
    assert (await waiting.value).suggested_filename.endswith(".xlsx")

    # A form without the CSRF token is refused, and the session lives on.
    refused = await worker.request.post(site.url + "/logout", form={"nothing": "here"})
    assert refused.status == 403
    assert (await wpage.goto(site.url + "/flows")).status == 200

    # A resident asking for the dashboard gets the usual answer and no link.
    resident = site.telegram.user(7002, first_name="Res", language_code="en")
    resident.send_command("start")
    await site.said(resident, "Which language")
    resident.send_command("dashboard")
    answer = await site.said(resident, "only community workers")
    assert "/login/" not in answer

    # A link older than 15 minutes is refused.
    database = Database(site.env["BUURTBOT_DATABASE_URL"])
    try:
        async with database.transaction() as session:
            old = await logins.create_link(
                session,
                site.env["BUURTBOT_SECRET_KEY"].encode(),
                admin=True,
                now=utcnow() - timedelta(minutes=16),
            )
    finally:
        await database.close()
    response = await other.goto(logins.login_url(site.url, old or ""))
    assert response.status == 403

    # Revoking the worker ends their session at once.
    await site.cli(
        "workers", "revoke", "--channel", "telegram", "--user-id", str(worker_user.user_id)
    )
    response = await wpage.goto(site.url + "/")
    assert response.status == 401
    assert "You are not logged in" in await wpage.content()

    # Log out: the session ends, the cookie opens nothing.
    await page.goto(site.url + "/")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(site.url + "/logged-out")
    assert (await page.goto(site.url + "/results")).status == 401
    assert csp_problems == []
    for context in (admin, second, worker):
        await context.close()
