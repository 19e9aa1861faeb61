"""Every page checked by axe-core (WCAG 2.1 A and AA) in Dutch, English and Arabic (right
to left), at desktop and phone widths, and no page wider than the screen; the
screenshots in docs/dashboard/ are made here.

axe-core comes from the pinned npm package (`npm ci`); it is injected into each page by
the test (a context that bypasses the page's CSP, which rightly forbids such a script).
Screenshots go to $BUURTBOT_SCREENSHOTS (`make screenshots`: docs/dashboard), else to the
test's own folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dashboard.conftest import AXE, DESKTOP, PHONE, Site

PAGES = {
    "overview": "/",
    "results": "/results?flow=what-matters",
    "compared": "/results?flow=what-matters&compare=this-month",
    "exports": "/exports",
    "flows": "/flows",
}
AXE_RUN = """
async () => {
  const found = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  });
  return found.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}
"""


async def violations(page) -> list[dict]:
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate(AXE_RUN)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_serious_accessibility_problem_on_any_page(
    site: Site, browser, tmp_path: Path
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    shots = Path(os.environ.get("BUURTBOT_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[dict]] = {}
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await browser.new_context(
            viewport=viewport,
            bypass_csp=True,
            is_mobile=width_name == "phone",
            has_touch=width_name == "phone",
        )
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
