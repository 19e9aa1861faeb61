"""Benchmark: the dashboard's pages at 10,000 people (demo data); p50/p95 per page.

    python benchmarks/dashboard.py                       # SQLite, 10,000 people
    python benchmarks/dashboard.py --people 2000 --repeat 5
    python benchmarks/dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    python benchmarks/dashboard.py --against /tmp/old    # and an older checkout, in turns

The database is filled by `buurtbot demo seed`'s own function (`bot.demo.seed`), then
the dashboard is served as `buurtbot run` serves it (aiohttp, same process) and each
page is fetched `--repeat` times, one after the other, by an operator's session, once
the first round of counting ahead is done (`bot/dashboard/counted.py`). Then each
results page again with nothing kept: "counted when asked", what a page nobody counted
before costs. Times are from request to the last byte, on 127.0.0.1: the server's time.
A chart is an SVG drawn on first request and kept, so both are shown. "loop waited" is
the longest the event loop (the bot's, in `buurtbot run`) was kept from other work
while that page was fetched: how long a resident's message could have waited.

`--against DIR` (a checkout of another build, e.g. `git worktree add /tmp/old main`)
measures that build and this one on the same database, in turns (old, new, old, new),
each in a fresh process, so that the load of a shared machine falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv else ROOT
if CODE != ROOT:
    # Another build's `bot`: before this checkout's (an editable install's finder too).
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, str(CODE))

from aiohttp import ClientSession, CookieJar  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bot import collector  # noqa: E402
from bot.app import build  # noqa: E402
from bot.community.logins import create_link  # noqa: E402
from bot.dashboard.keys import DASHBOARD  # noqa: E402
from bot.dashboard.recent import Recent  # noqa: E402
from bot.dashboard.server import make_app  # noqa: E402
from bot.reports.protection import _suppressed  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.db import sync_url  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import Answer, Participant  # noqa: E402

PAGES = {
    "overview": "/",
    "results": "/results?flow=what-matters",
    "results, one neighbourhood": "/results?flow=what-matters&neighbourhood=centrum",
    "results, two months compared": "/results?flow=what-matters&compare=this-month",
    "results, one age group": "/results?flow=what-matters&age_group=28-64",
    "exports": "/exports",
    "flows": "/flows",
    "send, the composer": "/send",
    "send, reach and previews (whole town)": "/send/summary?what=flow:what-matters",
    "export download (CSV)": "/exports/answers?format=csv&neighbourhood=centrum",
}
_today = date.today()
OWN_PERIOD = (
    "/results?flow=what-matters"
    f"&since={_today - timedelta(days=60)}&until={_today - timedelta(days=30)}"
)
PAGES["results, a period of one's own (not counted ahead)"] = OWN_PERIOD
PAGES["results, two periods of one's own compared (not counted ahead)"] = (
    f"{OWN_PERIOD}&compare=previous"
)


class Stalls:
    """How late the event loop wakes a task that sleeps 5 ms at a time: the longest
    any other work (a resident's message) waited for the loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            self.longest = max(self.longest, (time.perf_counter() - began - 0.005) * 1000)

    def take(self) -> float:
        found, self.longest = self.longest, 0.0
        return found

    def stop(self) -> None:
        self._task.cancel()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def as_known_to_this_build(url: str) -> Iterator[None]:
    """An older build (`--against`) refuses a database migrated past its own head: it is
    stamped with that head while the build runs, and stamped back after. What the later
    migrations added (columns, indexes) the older build leaves alone."""
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if CODE == ROOT or found in {s.revision for s in scripts.walk_revisions()}:
        engine.dispose()
        yield
        return
    [head] = scripts.get_heads()
    stamp = text("UPDATE alembic_version SET version_num = :v")
    with engine.begin() as connection:
        connection.execute(stamp, {"v": head})
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(stamp, {"v": found})
        engine.dispose()


Measured = list[tuple[str, list[float], float]]
"""A page, its times and how long the loop waited at most meanwhile (ms)."""


async def measure(url: str, repeat: int, data_dir: Path) -> tuple[Measured, Measured]:
    """Each page as a coordinator meets it (with the results counted ahead, where the
    build does that), then each results page counted when asked (nothing kept)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=data_dir,
        secret_key="benchmark",
        deployment_file=ROOT / "buurtbot.yaml",
        conversations_dir=ROOT / "conversations",
        dashboard_listen="",
    )
    app = build(settings)
    web_app = make_app(app)
    if hasattr(app, "settle"):
        app.settle()  # as `buurtbot run` does once started
    elif hasattr(collector, "settle"):
        collector.settle()
    web_app[DASHBOARD].recent = Recent(ttl=0)  # every results page a first view
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    found: Measured = []
    cold: Measured = []
    stalls = Stalls()
    counted = getattr(web_app[DASHBOARD], "counted", None)  # builds before 2026-12-06 have none
    try:
        async with app.database.transaction() as session:
            token = await create_link(session, settings.secret, admin=True)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with client.post(server.make_url(f"/login/{token}")) as response:
                assert response.status == 200, response.status

            async def fetch(path: str) -> tuple[float, str]:
                began = time.perf_counter()
                async with client.get(server.make_url(path)) as response:
                    body = await response.read()
                    assert response.status == 200, (path, response.status)
                return (time.perf_counter() - began) * 1000, body.decode("utf-8", "replace")

            if counted is not None:
                began = time.perf_counter()
                await fetch("/")  # a coordinator logs in: the counting ahead begins
                while counted.rounds < 1:
                    await asyncio.sleep(0.05)
                print(f"counted ahead in {time.perf_counter() - began:.1f} s", flush=True)

            html = ""
            for name, path in PAGES.items():
                times: list[float] = []
                if CODE != ROOT:
                    async with client.get(server.make_url(path)) as response:
                        if response.status == 404:  # an older build without that page
                            found.append((name, times, 0.0))
                            continue
                stalls.take()
                for _ in range(repeat):
                    ms, text = await fetch(path)
                    times.append(ms)
                    if name == "results":
                        html = text
                found.append((name, times, stalls.take()))
            charts = re.findall(r"/charts/([\w-]+)\.svg", html)
            first = [(await fetch(f"/charts/{key}.svg"))[0] for key in charts[:repeat]]
            found.append(("a chart, drawn (SVG)", first, stalls.take()))
            again = [(await fetch(f"/charts/{key}.svg"))[0] for key in charts[:repeat]]
            found.append(("a chart, again", again, stalls.take()))
            for name, path in PAGES.items() if counted is not None else ():
                if not path.startswith("/results"):
                    continue
                times = []
                waited = 0.0
                for _ in range(repeat):
                    counted.kept.clear()
                    _suppressed.cache_clear()  # the protection decided again, too
                    await asyncio.sleep(0.02)
                    stalls.take()  # not the clearing's own time
                    times.append((await fetch(path))[0])
                    waited = max(waited, stalls.take())
                cold.append((name, times, waited))
    finally:
        stalls.stop()
        await server.close()
        await app.close()
    return found, cold


def seed_demo(url: str, people: int, months: int) -> None:
    from bot.demo import seed
    from bot.deployment import load_deployment
    from bot.flows.library import FlowLibrary

    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        seed(
            connection,
            library=FlowLibrary.load(ROOT / "conversations"),
            deployment=load_deployment(ROOT / "buurtbot.yaml"),
            languages=["nl", "en", "tr", "ar", "pl", "uk"],
            people=people,
            months=months,
        )
    engine.dispose()


def show(results: Measured, cold: Measured | None = None) -> None:
    print(
        f"{'page':32} {'n':>3} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'loop waited ms':>15}"
    )
    rows: list[tuple[str, list[float], float] | str] = [*results]
    if cold:
        rows += ["--- counted when asked, nothing kept:", *cold]
    for row in rows:
        if isinstance(row, str):
            print(row)
            continue
        name, times, waited = row
        if times:
            print(
                f"{name:32} {len(times):3d} {times[0]:9.0f} {statistics.median(times):8.0f} "
                f"{percentile(times, 0.95):8.0f} {max(times):8.0f} {waited:15.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-seed", action="store_true", help="the database is seeded already")
    parser.add_argument("--against", type=Path, default=None, help="another build, in turns")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each build (--against)")
    parser.add_argument("--code", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        if not args.no_seed:
            upgrade(url)
            began = time.perf_counter()
            seed_demo(url, args.people, args.months)
            print(f"seeded in {time.perf_counter() - began:.0f} s")
        engine = create_engine(sync_url(url))
        with engine.connect() as connection:
            people = connection.execute(select(func.count()).select_from(Participant)).scalar()
            answers = connection.execute(select(func.count()).select_from(Answer)).scalar()
        engine.dispose()
        print(f"{url.split(':')[0]}: {people:,} people, {answers:,} answers; build {CODE}")
        if args.against is None:
            with as_known_to_this_build(url):
                show(*asyncio.run(measure(url, args.repeat, Path(folder) / "data")))
            return
        import subprocess

        for round_ in range(args.rounds):
            for code in (args.against, ROOT):
                print(f"\n--- round {round_ + 1}: {code}", flush=True)
                command = [sys.executable, __file__, "--database-url", url, "--no-seed"]
                command += ["--repeat", str(args.repeat), "--code", str(code)]
                subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
