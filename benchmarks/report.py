"""Report benchmark: `buurtbot report` and the XLSX export on a town's worth of answers.

    python benchmarks/report.py                       # 10,000 people, about 100,000 answers
    python benchmarks/report.py --people 2000 --months 6
    python benchmarks/report.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A fresh SQLite database (or an empty PostgreSQL one) is filled by `buurtbot demo seed`'s
own function (made-up residents over 12 months, activities, RSVPs, proposals); then,
each in a fresh process so that its peak memory is its own:

- `aggregate`: counting and protecting every table (the part `/results` and the
  dashboard share);
- `report`: the same plus `report.md`, its charts (PNG) and tables (CSV);
- `xlsx`: the export, a sheet a flow and the codebook.

Printed: seconds of wall time, CPU seconds, and peak memory (RSS) of each.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(url: str, people: int, months: int) -> dict[str, int]:
    from sqlalchemy import create_engine

    from bot import demo
    from bot.deployment import load_deployment
    from bot.flows.library import FlowLibrary
    from bot.storage.db import configure, sync_url
    from bot.storage.migrate import upgrade

    upgrade(url)
    engine = create_engine(sync_url(url))
    configure(engine)
    with engine.begin() as connection:
        made = demo.seed(
            connection,
            library=FlowLibrary.load(ROOT / "conversations"),
            deployment=load_deployment(ROOT / "buurtbot.yaml"),
            languages=["nl", "en", "tr", "ar", "pl", "uk"],
            people=people,
            months=months,
        )
    engine.dispose()
    return {"people": made.people, "answers": made.answers, "activities": made.activities}


def _run(url: str, what: str, folder: str) -> dict[str, float]:
    from gettext import NullTranslations

    from sqlalchemy import create_engine

    from bot.deployment import load_deployment
    from bot.flows.labels import Labels
    from bot.flows.library import FlowLibrary
    from bot.i18n.catalogs import Catalogs
    from bot.reports.aggregate import aggregate
    from bot.reports.export import export
    from bot.reports.report import write_report
    from bot.storage.db import configure, sync_url

    library = FlowLibrary.load(ROOT / "conversations")
    deployment = load_deployment(ROOT / "buurtbot.yaml")
    engine = create_engine(sync_url(url))
    configure(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    found: dict[str, float] = {}
    with engine.connect() as connection:
        if what in ("aggregate", "report"):
            results = aggregate(
                connection, library=library, deployment=deployment, translator=NullTranslations()
            )
            found["tables"] = len(results.tables())
            if what == "report":
                written = write_report(results, Path(folder) / "report", NullTranslations())
                found["charts"] = sum(1 for p in written if p.suffix == ".png")
        else:
            catalogs = Catalogs(ROOT / "locales", default="nl")
            books = [(c, Labels(library, deployment, catalogs(c))) for c in ("nl", "en")]
            found["rows"] = export(
                connection,
                Path(folder) / "answers.xlsx",
                fmt="xlsx",
                library=library,
                secret=b"benchmark",
                books=books,
            )
    engine.dispose()
    found["seconds"] = time.perf_counter() - wall
    found["cpu"] = time.process_time() - cpu
    found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--database-url")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run(args.database_url, args.child, args.folder)))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/report.db"
        started = time.perf_counter()
        made = _setup(url, args.people, args.months)
        print(
            f"seeded {made['people']:,} people, {made['answers']:,} answers, "
            f"{made['activities']} activities in {time.perf_counter() - started:.1f} s"
        )
        for what in ("aggregate", "report", "xlsx"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    what,
                    "--database-url",
                    url,
                    "--folder",
                    folder,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            found = json.loads(out.stdout.strip().splitlines()[-1])
            extra = ", ".join(
                f"{k} {int(v)}" for k, v in found.items() if k not in ("seconds", "cpu", "peak_mb")
            )
            print(
                f"{what:9} {found['seconds']:6.1f} s wall, {found['cpu']:6.1f} s CPU, "
                f"peak RSS {found['peak_mb']:5.0f} MB ({extra})"
            )


if __name__ == "__main__":
    main()
