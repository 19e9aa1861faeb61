"""Every page checked by axe-core (WCAG 2.1 A and AA) in Dutch, English and Arabic (right
to left), at desktop and phone widths, and no page wider than the screen; the
screenshots in docs/dashboard/ are made here.

axe-core comes from the pinned npm package (`npm ci`); it is injected into each page by
the test (a context that bypasses the page's CSP, which rightly forbids such a script).
Screenshots go to $BUURTBOT_SCREENSHOTS (`make screenshots`: docs/dashboard), else to the
test's own folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.axe import WIDTHS, checking_context, screenshot_folder, violations
from tests.dashboard.conftest import AXE, Site

PAGES = {
    "overview": "/",
    "results": "/results?flow=what-matters",
    "compared": "/results?flow=what-matters&compare=this-month",
    "exports": "/exports",
    "flows": "/flows",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_serious_accessibility_problem_on_any_page(
    site: Site, browser, tmp_path: Path
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    shots = screenshot_folder(tmp_path)
    problems: dict[str, list[dict]] = {}
    for width_name in WIDTHS:
        context = await checking_context(browser, width_name)
        page = await context.new_page()
        link = await site.admin_link()
        await page.goto(link + "?lang=en")
        problems[f"login {width_name}"] = await violations(page)
        await page.get_by_role("button").last.click()
        await page.wait_for_url(site.url + "/")
        for language in ("nl", "en", "ar"):
            for name, path in PAGES.items():
                separator = "&" if "?" in path else "?"
                await page.goto(f"{site.url}{path}{separator}lang={language}")
                await page.wait_for_load_state("networkidle")
                assert await page.evaluate("document.documentElement.lang") == language
                problems[f"{name} {language} {width_name}"] = await violations(page)
                # Nothing sticks out sideways (wide tables scroll in their own box).
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert wide <= 0, (name, language, width_name, wide)
                if language == "en" and name != "compared":
                    await page.screenshot(path=str(shots / f"{name}-{width_name}.png"))
        await page.goto(site.url + "/results?neighbourhood=nowhere")
        problems[f"error {width_name}"] = await violations(page)
        await context.close()
    serious = {
        where: [v for v in found if v["impact"] in ("serious", "critical")]
        for where, found in problems.items()
    }
    assert {where: found for where, found in serious.items() if found} == {}
    assert len(list(shots.glob("*.png"))) >= 8
