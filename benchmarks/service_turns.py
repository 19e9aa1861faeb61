"""The conversation service alone: CPU a turn, without a chat platform.

    python benchmarks/service_turns.py                  # 300 people, SQLite
    python benchmarks/service_turns.py --people 100 --database-url postgresql+psycopg://...

N people go through the onboarding at once, straight into `ConversationService.handle`,
one turn at a time as the Telegram channel runs them on SQLite (its service slots): the
same 8 turns a person as `telegram_throughput.py`. Printed: turns a second and CPU a
turn (the process's, the SQLite thread included), and SQL statements a turn. This is
the part of the Telegram figure that is the database and the flow engine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot.app import build  # noqa: E402
from bot.flows.events import Done, Pick, Text, Toggle  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.helpers import Person  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def onboard(person: Person, turn: asyncio.Semaphore) -> int:
    """The onboarding in English, two interests; returns the number of turns."""

    async def send(event: Text | Pick | Toggle | Done) -> None:
        async with turn:
            await person.send(event)

    await send(Text("/start"))
    await send(Pick(person.question().step, "en"))
    await send(Pick(person.question().step, "yes"))
    question = person.question()
    await send(Pick(question.step, question.options[0].value))
    await send(Text("2"))
    question = person.question()
    await send(Toggle(question.step, question.options[0].value))
    await send(Toggle(question.step, question.options[2].value))
    await send(Done(question.step))
    return 8


async def run(people: int, slots: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="buurtbot-turns-") as folder:
        url = database_url or f"sqlite:///{folder}/turns.db"
        app = build(make_settings(url, Path(folder)))
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(app.database.engine.sync_engine, "before_cursor_execute", count)
        turn = asyncio.Semaphore(slots)
        started_cpu, started = _cpu(), time.perf_counter()
        done = await asyncio.gather(
            *(onboard(Person(app.service, user_id=str(10_000 + n)), turn) for n in range(people))
        )
        seconds, cpu = time.perf_counter() - started, _cpu() - started_cpu
        await app.close()
    turns = sum(done)
    print(
        f"{people} people, {turns} turns, {app.database.engine.dialect.name}, "
        f"{slots} at once, load average {os.getloadavg()[0]:.1f}: "
        f"{turns / seconds:.0f} turns/s, CPU {cpu / turns * 1000:.2f} ms a turn, "
        f"{statements / turns:.1f} statements a turn"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--slots", type=int, default=1, help="turns at once (SQLite: 1)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    asyncio.run(run(arguments.people, arguments.slots, arguments.database_url))
