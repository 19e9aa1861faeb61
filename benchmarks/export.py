"""Benchmark: export 100,000 answers as CSV and XLSX; prints rows/s and peak memory.

    python benchmarks/export.py                     # 25,000 and 100,000 answers, SQLite
    python benchmarks/export.py --answers 100000    # one size
    python benchmarks/export.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Each size is seeded with bulk inserts (participants with an onboarding and a
"what matters" run, 8 answers each), then every export runs in a fresh child process so
that its peak memory (tracemalloc for Python objects, max RSS for the process) is its
own. Streaming shows as a peak that stays flat when the number of answers grows.
Rates are per CPU second (the wall time is printed too): on a shared machine the wall
clock measures the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.conversation.library import FlowLibrary  # noqa: E402
from bot.reports.export import export  # noqa: E402
from bot.storage.db import configure, sync_url  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import Answer, Conversation, Participant  # noqa: E402

ANSWERS_PER_PERSON = 8
NEIGHBOURHOODS = ["centrum", "de-riet", "kerkelanden", "schelfhorst", "windmolenbroek"]
THEMES = ["green", "cooking", "sport", "meeting", "safety", "money", "health", "youth"]


def seed(url: str, answers: int) -> int:
    """Bulk-insert people until there are `answers` answers; returns the number of runs."""
    rng = random.Random(1)
    engine = create_engine(sync_url(url))
    configure(engine)
    people = answers // ANSWERS_PER_PERSON
    now = datetime.now(UTC)
    batch = 2000
    with engine.begin() as connection:
        for table in ("answers", "conversations", "participants"):
            connection.execute(text(f"DELETE FROM {table}"))
        for start in range(0, people, batch):
            count = min(batch, people - start)
            joined = [now - timedelta(days=rng.uniform(0, 300)) for _ in range(count)]
            rows = [
                {
                    "channel": "telegram",
                    "channel_user_id": str(700_000_000 + start + i),
                    "language": rng.choice(["nl", "en", "tr", "ar", "pl", "uk"]),
                    "neighbourhood": NEIGHBOURHOODS[(start + i) % len(NEIGHBOURHOODS)],
                    "role": "resident",
                    "consented_at": joined[i],
                    "consent_version": "1",
                    "created_at": joined[i],
                    "last_seen_at": joined[i],
                }
                for i in range(count)
            ]
            ids = (
                connection.execute(
                    insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
                    rows,
                )
                .scalars()
                .all()
            )
            conversations = []
            for pid, person in zip(ids, rows, strict=True):
                for flow in ("onboarding", "what-matters"):
                    conversations.append(
                        {
                            "participant_id": pid,
                            "flow_id": flow,
                            "flow_version": 1,
                            "status": "finished",
                            "state": {"flow": flow, "step": None, "values": {}},
                            "started_at": person["created_at"],
                            "updated_at": person["created_at"],
                            "finished_at": person["created_at"],
                        }
                    )
            cids = (
                connection.execute(
                    insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
                    conversations,
                )
                .scalars()
                .all()
            )
            answer_rows = []
            for index, pid in enumerate(ids):
                person = rows[index]
                onboarding, matters = cids[2 * index], cids[2 * index + 1]
                values = [
                    (onboarding, "onboarding", "neighbourhood", person["neighbourhood"]),
                    (onboarding, "onboarding", "age_group", "18-27"),
                    (onboarding, "onboarding", "interests", rng.sample(THEMES, 2)),
                    (matters, "what-matters", "good", "Het park en de markt, en de buren"),
                    (matters, "what-matters", "change", rng.sample(THEMES, 2)),
                    (matters, "what-matters", "change_why", "Meer bankjes en minder auto's"),
                    (matters, "what-matters", "want_to_do", "Een moestuin beginnen"),
                    (matters, "what-matters", "contribute", ["time"]),
                ]
                answer_rows += [
                    {
                        "participant_id": pid,
                        "conversation_id": cid,
                        "flow_id": flow,
                        "flow_version": 1,
                        "step_key": step,
                        "value": value,
                        "raw": value if isinstance(value, str) else None,
                        "language": person["language"],
                        "neighbourhood": person["neighbourhood"],
                        "created_at": person["created_at"],
                    }
                    for cid, flow, step, value in values
                ]
            connection.execute(insert(Answer), answer_rows)
    engine.dispose()
    return 2 * people


def run_export(url: str, fmt: str, out: str, trace: bool = False) -> dict[str, float]:
    """One export, measured (runs in a child process).

    Timed runs leave tracemalloc off (it slows Python down several times); a second,
    traced run gives the peak of Python's own allocations.
    """
    library = FlowLibrary.load(ROOT / "conversations")
    engine = create_engine(sync_url(url))
    configure(engine)
    if trace:
        tracemalloc.start()
    began, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as connection:
        rows = export(connection, out, fmt=fmt, library=library, secret=b"benchmark")
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    engine.dispose()
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu": cpu,
        "python_peak_mb": peak / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes": os.path.getsize(out),
    }


def child(url: str, fmt: str, out: str, trace: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", url, fmt, out]
    done = subprocess.run(
        [*command, "--trace"] if trace else command, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, action="append")
    parser.add_argument("--database-url")
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "FORMAT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_export(*args.child, trace=args.trace)))
        return
    sizes = args.answers or [25_000, 100_000]
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        upgrade(url)
        print(f"database: {url.split('@')[-1]}")
        print(
            f"{'answers':>8} {'format':>6} {'rows':>7} {'wall s':>7} {'CPU s':>7} "
            f"{'rows/s':>7} {'answers/s':>9} {'py peak MB':>10} {'max RSS MB':>10} {'file MB':>7}"
        )
        for answers in sizes:
            began = time.perf_counter()
            runs = seed(url, answers)
            seeded = time.perf_counter() - began
            for fmt in ("csv", "xlsx"):
                out = f"{folder}/answers.{fmt}"
                m = child(url, fmt, out, trace=False)
                m["python_peak_mb"] = child(url, fmt, out, trace=True)["python_peak_mb"]
                assert m["rows"] == runs, (m["rows"], runs)
                print(
                    f"{answers:>8} {fmt:>6} {m['rows']:>7} {m['seconds']:>7.1f} {m['cpu']:>7.1f} "
                    f"{m['rows'] / m['cpu']:>7.0f} {answers / m['cpu']:>9.0f} "
                    f"{m['python_peak_mb']:>10.1f} {m['max_rss_mb']:>10.1f} "
                    f"{m['bytes'] / 2**20:>7.1f}"
                )
            print(f"  (seeding {answers} answers took {seeded:.1f} s)")


if __name__ == "__main__":
    main()
