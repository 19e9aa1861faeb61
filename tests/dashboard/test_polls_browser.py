"""Polls in the browser: a coordinator writes one (bad input first), it is queued with
`buurtbot broadcast --flow poll-N`, residents answer it over the fake Bot API in Turkish
and Arabic and over Signal through a second `buurtbot run` that started before the poll
existed, and the answers show on the results page as in `buurtbot report`. Then
axe-core on the new pages, and their screenshots."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import bidi
from tests import processes
from tests.dashboard.axe import WIDTHS, checking_context, screenshot_folder, violations
from tests.dashboard.conftest import AXE, DESKTOP, Site
from tests.dashboard.test_browser import page_tables, report_tables
from tests.fakes.signal_daemon import FakeSignalDaemon, FakeSignalPerson
from tests.fakes.telegram_api import FakeUser

WAIT = 120.0
PLACE = "hofkamp"  # no seeded people live here: only this test's residents
QUESTION = {
    "nl": "Wat wil je op het nieuwe speelveld?",
    "tr": "Yeni oyun alanında ne istersin?",
    "ar": "ماذا تريد في الملعب الجديد؟",
}
OPTIONS = [
    {"nl": "Schommels", "tr": "Salıncaklar", "ar": "أراجيح"},
    {"nl": "Een voetbalveld", "tr": "Futbol sahası", "ar": "ملعب كرة قدم"},
    {"nl": "Bankjes"},
]


async def log_in(site: Site, context, language: str = "en"):
    page = await context.new_page()
    await page.goto(await site.admin_link() + f"?lang={language}")
    await page.get_by_role("button").last.click()
    await page.wait_for_url(site.url + "/")
    return page


# ---- residents ---------------------------------------------------------------------------


def _keyboard(site: Site, user: FakeUser) -> dict | None:
    try:
        return site.telegram._find_keyboard_message(user.chat_id, None)
    except LookupError:
        return None


async def _next_keyboard(site: Site, user: FakeUser, after: int) -> dict:
    def newer() -> dict | None:
        found = _keyboard(site, user)
        return found if found is not None and found["message_id"] > after else None

    return await site.telegram.wait_for(newer, timeout=WAIT)


def _buttons(message: dict) -> list[dict]:
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def press(site: Site, user: FakeUser, which: int | str) -> dict:
    """Press a button of the latest question (by position or text); the next question."""
    message = _keyboard(site, user)
    assert message is not None
    buttons = _buttons(message)
    if isinstance(which, int):
        button = buttons[which]
    else:
        button = next(b for b in buttons if bidi.strip_marks(b["text"]) == which)
    user.press_data(button["callback_data"], message["message_id"])
    return await _next_keyboard(site, user, message["message_id"])


async def onboard_on_telegram(site: Site, user_id: int, language: str) -> FakeUser:
    """Through the onboarding over the fake Bot API, in `language`, living in PLACE."""
    names = {"tr": "Türkçe", "ar": "العربية"}
    user = site.telegram.user(user_id, first_name=f"R{user_id}", language_code=language)
    user.send_command("start")
    await _next_keyboard(site, user, 0)
    await press(site, user, names[language])
    await press(site, user, 0)  # consent: yes
    await press(site, user, "Hofkamp")
    await press(site, user, 1)  # age group
    # One interest (the buttons change in place), then "done" (the last button).
    message = _keyboard(site, user)
    assert message is not None
    user.press_data(_buttons(message)[0]["callback_data"], message["message_id"])
    user.press_data(_buttons(message)[-1]["callback_data"], message["message_id"])
    await site.telegram.wait_for(
        lambda: (
            any(
                c.chat_id == user.chat_id
                and c.method == "sendMessage"
                and "/help" in (c.text or "")
                for c in site.telegram.calls
            )
            or None
        ),
        timeout=WAIT,
    )
    return user


async def _signal_said(person: FakeSignalPerson, needle: str) -> str:
    try:
        async with asyncio.timeout(WAIT):
            while True:
                for message in person.inbox:
                    if needle in message.message:
                        return message.message
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError((needle, [m.message for m in person.inbox])) from None


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    async with FakeSignalDaemon() as running:
        yield running


# ---- the journey -------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_poll_written_in_the_browser_is_answered_and_its_results_shown(
    site: Site, browser, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    # A second `buurtbot run` (Signal only) on the same PostgreSQL, started before the poll.
    env = processes.environment(
        site.env["BUURTBOT_DATABASE_URL"],
        tmp_path / "second",
        signal_url=daemon.url,
        signal_number=daemon.account,
    )
    (tmp_path / "second").mkdir()
    second = await processes.run(env, tmp_path / "second")
    try:
        await daemon.wait_connections(1, timeout=WAIT)
        await _journey(site, browser, daemon)
    finally:
        log = await processes.stopped(second)
    assert "Traceback" not in log, log


async def _journey(site: Site, browser, daemon: FakeSignalDaemon) -> None:
    # Residents of PLACE: five on Telegram (Turkish, Arabic), one on Signal (Dutch).
    turks = [await onboard_on_telegram(site, 9100 + n, "tr") for n in range(3)]
    arabs = [await onboard_on_telegram(site, 9200 + n, "ar") for n in range(2)]
    sam = daemon.person("Sam")
    for typed, needle in [
        ("Hallo", "1. Nederlands"),
        ("1", "Is dat goed"),
        ("1", "Hofkamp"),
        ("Hofkamp", "leeftijd"),
        ("2", "1, 3"),
        ("1", "/help"),
    ]:
        sam.send_text(typed)
        await _signal_said(sam, needle)

    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = await log_in(site, context)
    await page.get_by_role("link", name="Polls").click()
    await page.wait_for_url(site.url + "/polls")
    await page.get_by_role("link", name="Write a new poll").click()

    # Bad input: nothing filled in, a 10,000-character answer, a doubled one.
    await page.locator("#f-option-1-nl").fill("x" * 10_000)
    await page.locator("#f-option-2-nl").fill("Ja")
    await page.locator("#f-option-3-nl").fill("ja!")
    await page.get_by_role("button", name="Save the poll").click()
    assert await page.locator("#e-question-nl").text_content() == "Write the question."
    assert "too long" in await page.locator("#e-option-1-nl").text_content()
    assert await page.locator("#e-option-3-nl").text_content() == "This answer is there twice."
    assert await page.locator("#e-neighbourhoods").text_content() == (
        "Choose at least one neighbourhood."
    )
    assert await page.locator("#errors li").count() == 4
    assert await page.locator("#f-option-2-nl").input_value() == "Ja"  # kept as typed
    await page.goto(site.url + "/polls")
    assert "There are no polls yet." in await page.content()  # nothing half-saved
    await page.goto(site.url + "/polls/new")

    # The poll, with its translations side by side; one more answer row than offered.
    for code, text in QUESTION.items():
        await page.locator(f"#f-question-{code}").fill(text)
    await page.get_by_role("button", name="One more answer").click()
    assert await page.locator("#f-option-4-nl").count() == 1
    for n, option in enumerate(OPTIONS, start=1):
        for code, text in option.items():
            await page.locator(f"#f-option-{n}-{code}").fill(text)
    await page.get_by_label("Hofkamp").check()
    await page.get_by_role("button", name="Save the poll").click()
    await page.wait_for_url(re.compile(r".*/polls\?created=poll-\d+$"))
    flow_id = page.url.rsplit("=", 1)[1]
    row = page.locator("ul.polls > li").first
    assert QUESTION["nl"] in await row.text_content()
    assert await row.get_by_role("link", name=re.compile("^Send")).get_attribute("href") == (
        f"/send?flow={flow_id}"
    )
    # The link opens the Send page with the poll chosen.
    await row.get_by_role("link", name=re.compile("^Send")).click()
    await page.wait_for_url(re.compile(r".*/send\?flow=poll-\d+$"))
    assert await page.locator("#f-what").input_value() == f"flow:{flow_id}"

    # Queued from the command line, for PLACE.
    out = await site.cli("broadcast", "--flow", flow_id, "--neighbourhood", PLACE)
    assert out.strip().splitlines()[-1] == "6", out

    # Each resident gets it once, in their language; they answer.
    for user in turks + arabs:
        language = "tr" if user in turks else "ar"
        asked = await site.said(user, QUESTION[language], timeout=WAIT)
        assert asked
    for user in turks:
        question = _keyboard(site, user)
        assert question is not None
        assert [b["text"] for b in _buttons(question)] == [
            "Salıncaklar",
            "Futbol sahası",
            "Bankjes",
        ]
    for user in arabs:
        question = _keyboard(site, user)
        assert question is not None
        shown = [bidi.strip_marks(b["text"]) for b in _buttons(question)]
        assert shown == ["أراجيح", "ملعب كرة قدم", "Bankjes"], shown
    turks[0].send_text("futbol sahası")  # typed, not pressed
    await site.said(turks[0], "Cevabın için teşekkürler!", timeout=WAIT)
    for user in turks[1:]:
        await _answer(site, user, "Futbol sahası", "Cevabın için teşekkürler!")
    for user in arabs:
        await _answer(site, user, "ملعب كرة قدم", "شكرًا على إجابتك!")
    asked = await _signal_said(sam, QUESTION["nl"])
    assert "2. Een voetbalveld" in asked, asked
    sam.send_text("2")
    await _signal_said(sam, "Dank je wel voor je antwoord!")
    for user in turks + arabs:
        got = [
            c
            for c in site.telegram.calls
            if c.chat_id == user.chat_id and c.ok and QUESTION["nl"][:8] in (c.text or "")
        ]
        assert got == [], "nobody gets the Dutch question beside their own"

    # The results page: the report's numbers, the options by name.
    await page.goto(f"{site.url}/results?flow={flow_id}&neighbourhood={PLACE}")
    shown = await page_tables(page)
    folder = site.cwd / "poll-report"
    await site.cli(
        "report",
        "--language",
        "en",
        "--flow",
        flow_id,
        "--neighbourhood",
        PLACE,
        "--output",
        str(folder),
    )
    report = report_tables((folder / "report.md").read_text(encoding="utf-8"))
    title = next(t for t in shown if QUESTION["nl"] in t)
    assert shown[title]["rows"] == report[title], (shown[title], report[title])
    rows = {r[0]: r[1:] for r in shown[title]["rows"]}
    assert rows["Een voetbalveld"][0].startswith("6 ") and rows["Schommels"][0].startswith("0"), (
        rows
    )
    # In Arabic, the options are the Arabic ones, each isolated in its own direction.
    await page.goto(f"{site.url}/results?flow={flow_id}&neighbourhood={PLACE}&lang=ar")
    cells = await page.locator("section.block tbody th bdi").all_text_contents()
    assert "ملعب كرة قدم" in [bidi.strip_marks(c) for c in cells], cells
    # The list counts them (as the reports would: 6 is shown).
    await page.goto(site.url + "/polls")
    first = page.locator("ul.polls > li").first
    assert await first.locator("dd.answered").text_content() == "6"
    await context.close()


async def _answer(site: Site, user: FakeUser, label: str, thanks: str) -> None:
    message = _keyboard(site, user)
    assert message is not None
    button = next(b for b in _buttons(message) if bidi.strip_marks(b["text"]) == label)
    user.press_data(button["callback_data"], message["message_id"])
    await site.said(user, thanks, timeout=WAIT)


# ---- accessibility and screenshots -------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_poll_pages_pass_axe_and_are_photographed(
    site: Site, browser, tmp_path: Path
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    shots = screenshot_folder(tmp_path)
    problems: dict[str, list[dict]] = {}
    for width_name in WIDTHS:
        context = await checking_context(browser, width_name)
        page = await log_in(site, context)
        if width_name == "desktop":
            await page.goto(site.url + "/polls/new?lang=en")
            for code, text in QUESTION.items():
                await page.locator(f"#f-question-{code}").fill(text)
            for n, option in enumerate(OPTIONS, start=1):
                for code, text in option.items():
                    await page.locator(f"#f-option-{n}-{code}").fill(text)
            await page.get_by_label("Hofkamp").check()
            await page.get_by_role("button", name="Save the poll").click()
            await page.wait_for_url(re.compile(r".*/polls\?created=poll-\d+$"))
        for language in ("nl", "en", "ar"):
            for name, path in (("polls", "/polls"), ("poll-new", "/polls/new")):
                await page.goto(f"{site.url}{path}?lang={language}")
                await page.wait_for_load_state("networkidle")
                problems[f"{name} {language} {width_name}"] = await violations(page)
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert wide <= 0, (name, language, width_name, wide)
                if language == "en":
                    await page.screenshot(
                        path=str(shots / f"{name}-{width_name}.png"), full_page=True
                    )
            # The form with its messages beside the fields.
            await page.goto(f"{site.url}/polls/new?lang={language}")
            await page.locator("#f-option-2-nl").fill("Ja")
            await page.locator("#f-option-3-nl").fill("ja")
            await page.locator("button.primary").click()
            await page.wait_for_selector("#errors")
            problems[f"poll-errors {language} {width_name}"] = await violations(page)
            if language == "en":
                await page.screenshot(
                    path=str(shots / f"poll-errors-{width_name}.png"), full_page=True
                )
        await context.close()
    serious = {
        where: [v for v in found if v["impact"] in ("serious", "critical")]
        for where, found in problems.items()
    }
    assert {where: found for where, found in serious.items() if found} == {}
