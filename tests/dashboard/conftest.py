"""The dashboard as an operator runs it: `buurtbot run` (a process of its own, with the
fake Bot API), a seeded database, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from bot.storage.migrate import upgrade
from tests import processes
from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser
from tests.processes import free_port
from tests.reports.seed import Seeded, seed

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PEOPLE = 60  # 12 in each of 5 neighbourhoods, and 3 in haghoek (too few to show)
SMALL = "haghoek"


@dataclass
class Site:
    """A running `buurtbot run` with its dashboard, and the command line beside it."""

    url: str
    env: dict[str, str]
    cwd: Path
    telegram: FakeTelegramServer
    seeded: Seeded
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)

    async def cli(self, *args: str) -> str:
        """`buurtbot ARGS` on the same database; its output (exit 0 asserted)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, (args, out.decode(), err.decode())
        return out.decode()

    async def admin_link(self) -> str:
        return (await self.cli("dashboard", "link", "--admin")).strip().splitlines()[-1]

    async def said(self, user: FakeUser, needle: str, timeout: float = 60) -> str:
        """The text of the bot's message to `user` containing `needle` (waits for it)."""

        def found() -> str | None:
            for call in self.telegram.calls:
                if call.chat_id == user.chat_id and call.ok and needle in (call.text or ""):
                    return call.text
            return None

        return await self.telegram.wait_for(found, timeout=timeout)

    async def worker(self, user_id: int, *neighbourhoods: str) -> tuple[FakeUser, str]:
        """A worker made the real way (`workers invite`, `/worker CODE` in the chat) who
        asks for a login link with `/dashboard`; the user and the link."""
        args = [item for key in neighbourhoods for item in ("--neighbourhood", key)]
        code = (await self.cli("workers", "invite", *args)).strip().splitlines()[-1]
        user = self.telegram.user(user_id, first_name="Wil", language_code="en")
        user.send_text(f"/worker {code}")
        await self.said(user, "community worker")
        user.send_command("dashboard")
        text = await self.said(user, "/login/")
        link = re.search(r"http://\S+/login/\S+", text)
        assert link, text
        return user, link.group(0)


@pytest.fixture
def seeded_url(database_url: str) -> tuple[str, Seeded]:
    upgrade(database_url)
    return database_url, seed(database_url, participants=PEOPLE, small=3, extra_flows=False)


@pytest.fixture
async def site(seeded_url: tuple[str, Seeded], tmp_path: Path) -> AsyncIterator[Site]:
    database_url, seeded = seeded_url
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with FakeTelegramServer() as telegram:
        env = processes.environment(
            database_url,
            tmp_path,
            telegram_token=telegram.token,
            telegram_api_url=telegram.base_url,
            dashboard_listen=f"127.0.0.1:{port}",
            public_url=url,
        )
        process = await processes.run(env, tmp_path)
        running = Site(url, env, tmp_path, telegram, seeded, process)
        try:
            await _until_serving(url, process)
            yield running
        finally:
            output = await processes.stopped(process)
        assert "Traceback" not in output, output


async def _until_serving(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError("buurtbot run ended before the dashboard was up")
            try:
                async with client.get(f"{url}/static/dashboard.css") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the dashboard did not come up in a minute")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()
