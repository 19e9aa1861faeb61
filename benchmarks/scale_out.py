"""Scale-out: 1, 2 and 3 `buurtbot run` processes on one PostgreSQL, webhook mode.

    BUURTBOT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/scale_out.py --people 60

Real `buurtbot run` processes (as an operator starts them) behind a round-robin proxy,
against the fake Bot API (tests/fakes/telegram_api.py) delivering webhooks one at a
time, as Telegram does; N people walk the onboarding at once (8 updates, 15 replies
each), each step after the replies of the one before. Prints updates/s and the p50/p99
latency of a step (update queued -> its last reply at the fake) for each number of
processes; then, in the same run, one process on SQLite beside the bare
python-telegram-bot echo bot (benchmarks/telegram_throughput.py, polling), as the
ratio of their updates/s.

More processes only go faster with cores to run them: on a 2-core machine the bot
processes, PostgreSQL, the fake server and the driver share two cores, and the figures
say where the time goes (CPU seconds of the bot processes against the wall clock).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks import telegram_throughput  # noqa: E402
from bot.storage.db import sync_url  # noqa: E402
from tests.channels.telegram.test_scale_out import (  # noqa: E402
    ONBOARDING,
    Deployment,
    _count_reaches,
)
from tests.conftest import postgres_schema_url  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser  # noqa: E402


def _cpu_of(pid: int) -> float:
    """CPU seconds a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _walk(server: FakeTelegramServer, user: FakeUser, latencies: list[float]) -> int:
    expected = 0
    for action, count in ONBOARDING:
        expected += count
        began = time.monotonic()
        action(user)
        await server.wait_for(_count_reaches(server, user.chat_id, expected), 300)
        latencies.append(time.monotonic() - began)
    return len(ONBOARDING)


async def scale(pg_url: str, processes: int, people: int) -> str:
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(sync_url(pg_url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with FakeTelegramServer(deliver_webhooks=True) as server:
                deployment = Deployment(
                    server, postgres_schema_url(schema), Path(folder), processes
                )
                await deployment.proxy.__aenter__()
                try:
                    await deployment.start()
                    await asyncio.sleep(1.0)  # start-up calls (the command menu) done
                    cpu_before = sum(_cpu_of(p.pid) for p in deployment.running)
                    users = [
                        server.user(50_000 + n, f"B{n}", language_code="en") for n in range(people)
                    ]
                    latencies: list[float] = []
                    began = time.monotonic()
                    updates = sum(
                        await asyncio.gather(*(_walk(server, u, latencies) for u in users))
                    )
                    seconds = time.monotonic() - began
                    cpu = sum(_cpu_of(p.pid) for p in deployment.running) - cpu_before
                finally:
                    await deployment.stop()
                    await deployment.proxy.__aexit__()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return (
        f"{processes:>9} {people:>6} {updates:>7} {seconds:>7.1f}s {updates / seconds:>9.1f} "
        f"{p50 * 1000:>7.0f} {p99 * 1000:>7.0f} {cpu:>8.1f}s"
    )


async def main(arguments: argparse.Namespace) -> None:
    pg_url = os.environ.get("BUURTBOT_TEST_DATABASE_URL")
    if not pg_url:
        sys.exit("set BUURTBOT_TEST_DATABASE_URL to a PostgreSQL database (see the docstring)")
    load = os.getloadavg()
    print(
        f"{arguments.people} people, {os.cpu_count()} CPUs, "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"{'processes':>9} {'people':>6} {'updates':>7} {'time':>8} {'updates/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'bot CPU':>9}"
    )
    for count in arguments.processes:
        print(await scale(pg_url, count, arguments.people), flush=True)
    if arguments.echo:
        ours = await telegram_throughput.run("buurtbot", arguments.people, 300.0)
        echo = await telegram_throughput.run("echo", arguments.people, 300.0)
        print(f"one process on SQLite (polling): {ours.rate:.1f} updates/s")
        print(f"bare python-telegram-bot echo bot: {echo.rate:.1f} updates/s")
        print(f"buurtbot / echo: {ours.rate / echo.rate:.0%}")
        if ours.updates and echo.updates and ours.bot_cpu:
            # Less at the mercy of the other work on the machine than the rates: the CPU
            # each bot spent an update.
            mine, theirs = ours.bot_cpu / ours.updates, echo.bot_cpu / echo.updates
            print(
                f"bot CPU per update: buurtbot {mine * 1000:.2f} ms, echo {theirs * 1000:.2f} ms "
                f"(echo / buurtbot {theirs / mine:.0%})"
            )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--no-echo", dest="echo", action="store_false", help="skip the SQLite / echo-bot ratio"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
