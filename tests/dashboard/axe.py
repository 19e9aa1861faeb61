"""What the dashboard's accessibility tests share: axe-core run inside a page, a browser
context at each width, and the folder the screenshots go to (`make screenshots`:
$BUURTBOT_SCREENSHOTS, docs/dashboard)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.dashboard.conftest import AXE, DESKTOP, PHONE

WIDTHS = ("desktop", "phone")
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
    """axe-core's WCAG 2.1 A and AA findings on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate(AXE_RUN)


async def checking_context(browser, width: str):
    """A browser context at `width` ("desktop" or "phone") that lets axe-core's script in."""
    phone = width == "phone"
    return await browser.new_context(
        viewport=PHONE if phone else DESKTOP, bypass_csp=True, is_mobile=phone, has_touch=phone
    )


def screenshot_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BUURTBOT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
