"""Send, in a real browser (Debian's chromium via Playwright) against `buurtbot run` with
the fake Bot API: a poll to one neighbourhood reaches only its residents, each once, and
their answers show on the results page; a scheduled invitation that is stopped sends
nothing; the reach shown is the number queued; bad input is refused beside its field
with nothing queued; a worker cannot send outside their neighbourhoods; axe-core finds
no serious problem; the screenshots in docs/dashboard/ are made here.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.i18n.format import local
from bot.storage.db import sync_url
from bot.storage.models import Answer, OutboxMessage, utcnow
from bot.storage.models.community import AuditEntry
from tests.dashboard.axe import screenshot_folder, violations
from tests.dashboard.conftest import AXE, DESKTOP, PEOPLE, PHONE, Site
from tests.reports.seed import NEIGHBOURHOODS, SMALL, signal_number, telegram_id

pytestmark = pytest.mark.postgres

POLL = "checkin"  # a resident conversation that stands on its own, with buttons


def residents_of(neighbourhood: str) -> list[tuple[str, str]]:
    """(channel, user id) of the seeded residents of a neighbourhood (as seed() places them)."""
    placed = [NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)] for i in range(PEOPLE)] + [SMALL] * 3
    return [
        ("signal", signal_number(i)) if i % 4 == 0 else ("telegram", telegram_id(i))
        for i, key in enumerate(placed)
        if key == neighbourhood
    ]


class Database:
    """The test's own look into the database the site runs on (counts only)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(sync_url(url))

    def outbox(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def answers(self, flow: str, step: str) -> int:
        query = select(func.count()).select_from(Answer)
        query = query.where(Answer.flow_id == flow, Answer.step_key == step)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def audit(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
            )

    def close(self) -> None:
        self.engine.dispose()


def sends_to(site: Site, chat_ids: set[int]) -> Counter[int]:
    """sendMessage calls that reached each of `chat_ids`."""
    return Counter(
        call.chat_id
        for call in site.telegram.calls_to("sendMessage")
        if call.ok and call.chat_id in chat_ids
    )


async def log_in(browser, link: str, viewport: dict | None = None):
    context = await browser.new_context(viewport=viewport or DESKTOP, locale="en-GB")
    page = await context.new_page()
    await page.goto(link + "?lang=en")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r".*/$"))
    return page


async def reach_shown(page) -> int:
    """The reach as the page shows it, once htmx has updated it."""
    await page.wait_for_load_state("networkidle")
    return int(await page.locator("#reach").text_content())


async def test_a_poll_reaches_one_neighbourhood_each_once_and_answers_show(
    site: Site, browser, database_url: str
) -> None:
    db = Database(database_url)
    _, link = await site.worker(700_001, "kerkelanden")
    page = await log_in(browser, link)
    await page.get_by_role("link", name="Send").click()
    await page.wait_for_url(site.url + "/send")
    # Only their neighbourhood is offered, and it is already chosen.
    boxes = page.locator("input[name=neighbourhood]")
    assert await boxes.count() == 1
    assert await boxes.first.is_checked()

    # Nothing chosen yet: sending is refused beside the field, nothing is queued.
    await page.get_by_role("button", name="Send", exact=True).click()
    assert (
        "Choose an activity or a conversation to send."
        in await page.locator("#e-what").text_content()
    )
    assert db.outbox() == 0

    await page.select_option("#f-what", f"flow:{POLL}")
    people = residents_of("kerkelanden")
    assert await reach_shown(page) == len(people)
    split = {
        await item.get_attribute("data-language"): await item.text_content()
        for item in await page.locator(".split .count").all()
    }
    # A worker sees 1 to 4 people as "fewer than 5", and no language's number that the
    # others and the total give away: never one hidden beside a shown total.
    hidden = {code for code, text in split.items() if not text.isdigit()}
    in_shown = sum(int(text) for code, text in split.items() if code not in hidden)
    assert len(hidden) != 1, split
    assert {split[code] for code in hidden} <= {"fewer than 5", "not shown"}
    assert (in_shown == len(people)) == (not hidden), split
    # The preview: Telegram's buttons and Signal's numbered options, in each language.
    english = page.locator("section.preview", has=page.locator("#p-en"))
    if "en" in split:
        assert await english.locator(".key", has_text="Yes").count() == 1
        assert "1. Yes" in await english.locator(".phone").nth(1).text_content()
    assert await page.locator("section.preview").count() == len(split)

    # Audience of nobody: a second neighbourhood cannot be added, so narrow by language
    # to one nobody here speaks, if there is one; then send to everyone.
    absent = [code for code in ("nl", "en", "tr", "ar", "pl", "uk") if code not in split]
    if absent:
        await page.check(f"input[name=language][value={absent[0]}]")
        await page.get_by_role("button", name="Send", exact=True).click()
        assert "Nobody matches" in await page.locator("#e-audience").text_content()
        assert db.outbox() == 0
        await page.uncheck(f"input[name=language][value={absent[0]}]")

    # A time in the past: refused beside the field, nothing queued.
    await page.check("input[name=when][value=later]")
    yesterday = local(utcnow() - timedelta(days=1), "Europe/Amsterdam")
    await page.fill("#f-at", yesterday.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Send", exact=True).click()
    assert "This time has passed" in await page.locator("#e-at").text_content()
    assert db.outbox() == 0

    # Now: the number queued is the reach shown.
    await page.check("input[name=when][value=now]")
    shown = await reach_shown(page)
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_url(re.compile(r".*/send\?sent="))
    assert db.outbox("broadcast") == shown == len(people)
    assert f"{shown} messages are queued" in await page.locator("#sent").text_content()
    assert db.audit().count("poll.sent") == 1

    # Each Telegram resident of Kerkelanden gets it once; nobody else gets anything.
    here = {int(uid) for channel, uid in people if channel == "telegram"}
    everyone = {int(uid) for uid in site.seeded.user_ids if not uid.startswith("+")}

    def questions() -> Counter[int]:
        return Counter(
            call.chat_id
            for call in site.telegram.calls_to("sendMessage")
            if call.ok and call.chat_id in here and call.reply_markup
        )

    # The poll's question (its buttons) once each.
    await site.telegram.wait_for(lambda: len(questions()) == len(here) or None, timeout=60)
    assert questions() == Counter({uid: 1 for uid in here})
    # Each answers with the first button ("yes", in their language).
    for uid in here:
        keyboard = next(
            m["reply_markup"]["inline_keyboard"]
            for m in site.telegram.messages_for(uid).values()
            if m.get("reply_markup")
        )
        site.telegram.user(uid).press(callback_data=keyboard[0][0]["callback_data"])
    await site.telegram.wait_for(lambda: db.answers(POLL, "join") == len(here) or None, timeout=60)
    counts = sends_to(site, everyone)
    assert set(counts) == here, set(counts) ^ here

    # Progress: the outbox's numbers for the batch.
    await page.goto(site.url + "/send")
    row = page.locator("table.batches tbody tr").first
    await page.wait_for_function(
        "n => document.querySelector('table.batches tbody tr [data-count=sent]').textContent == n",
        arg=str(len(here)),
    )
    assert int(await row.locator("[data-count=waiting]").text_content()) == len(people) - len(here)

    # The answers on the results page (as many said yes as were asked here: at least 5).
    await row.get_by_role("link", name="Answers").click()
    await page.wait_for_load_state("networkidle")
    assert len(here) >= 5
    join = page.locator("section.block", has_text="join an activity").first
    yes_row = join.locator("tbody tr", has_text="Yes").first
    cells = [c.strip() for c in await yes_row.locator("td").all_text_contents()]
    assert str(len(here)) in " ".join(cells), cells

    # Another neighbourhood is not theirs: the summary, the send and a stop are 403.
    response = await page.request.get(
        site.url + "/send/summary?what=flow:checkin&neighbourhood=centrum"
    )
    assert response.status == 403
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = await page.request.post(
        site.url + "/send",
        form={
            "csrf_token": token,
            "what": f"flow:{POLL}",
            "neighbourhood": "centrum",
            "when": "now",
        },
    )
    assert response.status == 403
    # Nonsense gets its message beside the field, never a 500; nothing is queued.
    for sent, expected in (
        ({"what": "activity:" + "9" * 10_000}, "Choose from the list."),
        ({"what": "flow:🙂\u202eעברית"}, "This conversation does not exist."),
        ({"what": f"flow:{POLL}", "when": "later", "at": "🙂"}, "Give a date and a time"),
        ({"what": f"flow:{POLL}", "age_group": "<b>99</b>"}, "Choose from the list."),
    ):
        response = await page.request.post(
            site.url + "/send", form={"csrf_token": token, "when": "now", **sent}
        )
        assert response.status == 422, sent
        assert expected in await response.text(), sent
    assert db.outbox("broadcast") == len(people)
    db.close()


async def test_a_scheduled_invitation_stopped_sends_nothing_and_pages_pass_axe(
    site: Site, browser, database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    starts = local(utcnow() + timedelta(days=3), "Europe/Amsterdam").strftime("%Y-%m-%dT15:00")
    out = await site.cli(
        "activities",
        "add",
        "--title",
        "Buurtbarbecue",
        "--starts",
        starts,
        "--place",
        "Het plein",
        "--neighbourhood",
        "centrum",
        "--neighbourhood",
        "de-riet",
    )
    activity = int(out.strip().splitlines()[-1])
    page = await log_in(browser, await site.admin_link())
    await page.goto(site.url + "/send")
    await page.select_option("#f-what", f"activity:{activity}")
    await page.check("input[name=neighbourhood][value=centrum]")
    people = residents_of("centrum")
    assert await reach_shown(page) == len(people)
    await page.check("input[name=when][value=later]")
    due = utcnow() + timedelta(seconds=20)
    await page.fill("#f-at", local(due, "Europe/Amsterdam").strftime("%Y-%m-%dT%H:%M:%S"))
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_url(re.compile(r".*/send\?sent="))
    assert db.outbox("invitation") == len(people)
    row = page.locator("table.batches tbody tr").first
    assert int(await row.locator("[data-count=waiting]").text_content()) == len(people)

    # Stopped before its time.
    await row.get_by_role("button", name="Stop").click()
    await page.wait_for_url(re.compile(r".*/send\?stopped="))
    assert f"{len(people)} messages were stopped" in await page.locator("#sent").text_content()
    row = page.locator("table.batches tbody tr").first
    assert int(await row.locator("[data-count=cancelled]").text_content()) == len(people)
    assert await row.get_by_role("button", name="Stop").count() == 0

    # Past its time, a poll sent now to De Riet arrives: the dispatcher has run since,
    # and Centrum got nothing.
    await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()) + 2)  # past its time
    await page.goto(site.url + "/send")
    await page.select_option("#f-what", f"flow:{POLL}")
    await page.check("input[name=neighbourhood][value=de-riet]")
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_url(re.compile(r".*/send\?sent="))
    riet = {int(uid) for channel, uid in residents_of("de-riet") if channel == "telegram"}
    await site.telegram.wait_for(lambda: len(sends_to(site, riet)) == len(riet) or None, timeout=60)
    centrum = {int(uid) for channel, uid in people if channel == "telegram"}
    assert not sends_to(site, centrum)
    assert db.audit().count("invitation.stopped") == 1
    assert db.audit().count("invitation.sent") == 1

    # The same people can be invited again after a stop: the reach is back.
    await page.goto(site.url + f"/send?what=activity:{activity}")
    await page.check("input[name=neighbourhood][value=centrum]")
    assert await reach_shown(page) == len(people)
    # Sent now; a second round reaches nobody (all were invited): refused beside the
    # audience, nothing more queued.
    await page.get_by_role("button", name="Send", exact=True).click()
    await page.wait_for_url(re.compile(r".*/send\?sent="))
    queued = db.outbox("invitation")
    await page.goto(site.url + f"/send?what=activity:{activity}")
    await page.check("input[name=neighbourhood][value=centrum]")
    await page.get_by_role("button", name="Send", exact=True).click()
    assert "Nobody matches" in await page.locator("#e-audience").text_content()
    assert db.outbox("invitation") == queued
    db.close()

    # axe-core, in Dutch and English, desktop and phone; the screenshots.
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    shots = screenshot_folder(tmp_path)
    problems: dict[str, list[dict]] = {}
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await browser.new_context(viewport=viewport, bypass_csp=True)
        checked = await context.new_page()
        await checked.goto(await site.admin_link())
        await checked.get_by_role("button").last.click()
        await checked.wait_for_url(site.url + "/")
        for language in ("nl", "en", "ar"):
            await checked.goto(f"{site.url}/send?what=flow:{POLL}&lang={language}")
            await checked.check("input[name=neighbourhood][value=kerkelanden]")
            await checked.wait_for_load_state("networkidle")
            await checked.wait_for_selector("section.preview")
            problems[f"send {language} {width_name}"] = await violations(checked)
            wide = await checked.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert wide <= 0, (language, width_name, wide)
            if language == "en":
                await checked.screenshot(path=str(shots / f"send-{width_name}.png"), full_page=True)
            # The form refused: errors beside their fields pass too.
            await checked.goto(f"{site.url}/send?lang={language}")
            await checked.get_by_role("button", name=re.compile("^(Send|Versturen|أرسل)$")).click()
            await checked.wait_for_selector("#e-what")
            problems[f"send refused {language} {width_name}"] = await violations(checked)
        await context.close()
    serious = {
        where: [v for v in found if v["impact"] in ("serious", "critical")]
        for where, found in problems.items()
    }
    assert not any(serious.values()), {k: v for k, v in serious.items() if v}
