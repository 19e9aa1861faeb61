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
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.flows.library import FlowLibrary  # noqa: E402
from bot.reports.export import export  # noqa: E402
from bot.storage.db import configure, sync_url  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from tests.reports.seed import seed as seed_people  # noqa: E402

ANSWERS_PER_PERSON = 8  # about as many as the test seeder gives each person


def seed(url: str, answers: int) -> tuple[int, int]:
    """A fresh set of about `answers` answers (the tests' seeder, bulk inserts);
    returns the number of flow runs and of answers."""
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        for table in ("answers", "conversations", "participants"):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    seeded = seed_people(
        url, participants=answers // ANSWERS_PER_PERSON, small=0, days=300, extra_flows=False
    )
    return seeded.conversations, seeded.answers


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
            runs, answers = seed(url, answers)
            seeded = time.perf_counter() - began
            for fmt in ("csv", "xlsx"):
                out = f"{folder}/answers.{fmt}"
                m = child(url, fmt, out, trace=False)
                m["python_peak_mb"] = child(url, fmt, out, trace=True)["python_peak_mb"]
                # Runs without a single answer have no row.
                assert 0 < m["rows"] <= runs, (m["rows"], runs)
                print(
                    f"{answers:>8} {fmt:>6} {m['rows']:>7} {m['seconds']:>7.1f} {m['cpu']:>7.1f} "
                    f"{m['rows'] / m['cpu']:>7.0f} {answers / m['cpu']:>9.0f} "
                    f"{m['python_peak_mb']:>10.1f} {m['max_rss_mb']:>10.1f} "
                    f"{m['bytes'] / 2**20:>7.1f}"
                )
            print(f"  (seeding {answers} answers took {seeded:.1f} s)")


if __name__ == "__main__":
    main()
