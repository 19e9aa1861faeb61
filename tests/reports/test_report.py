"""The report from several thousand people: a folder of text, tables and phone-sized PNGs,
with no id, phone number or small group anywhere; and /results for a worker in chat."""

from __future__ import annotations

import csv
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.deployment import Deployment
from bot.flows.events import Document, Say
from bot.flows.library import FlowLibrary
from bot.reports.aggregate import MIN_GROUP, TOTAL, Results, Scope, aggregate
from bot.reports.charts import WIDTH, chart_height, png_size
from bot.reports.periods import parse_compare
from bot.reports.report import charts, results_messages, write_report
from bot.storage.db import Database
from tests.reports.seed import SMALL, phone_like, seed

T = NullTranslations()
ZONE = "Europe/Amsterdam"
PARTICIPANTS = 3000


def expected_heights(results: Results) -> dict[str, int]:
    """The height each chart must have, from the number of bars in its table."""
    expected = {t.name: chart_height(len(t.lines), 2) for t in results.comparison}
    groups = [g for g in results.groups if g.key != TOTAL]
    for flow in results.flows:
        expected[flow.participation.name] = chart_height(len(groups))
        for table in [flow.funnel, flow.themes, flow.scores, flow.months, *flow.questions]:
            if table is not None:
                expected[table.name] = chart_height(len(table.lines))
    for table in results.sections:
        expected[table.name] = chart_height(len(table.lines))
    return expected


def assert_nothing_identifying(text: str, user_ids: list[str], where: str) -> None:
    for user_id in user_ids:
        assert user_id not in text, f"{where} holds a chat id"
    assert phone_like(text) == [], f"{where} holds a phone-like number"


def small_numbers_in_csv(path: Path) -> list[str]:
    """Numbers from 1 to 4 in a table of counts of people (scores excepted)."""
    found = []
    with path.open(encoding="utf-8") as handle:
        for row in list(csv.reader(handle))[1:]:
            for cell in row[1:]:
                if cell.isdigit() and 0 < int(cell) < MIN_GROUP:
                    found.append(f"{row[0]}: {cell}")
    return found


def test_report_from_thousands_of_people(
    db_url: str,
    engine: Engine,
    library: FlowLibrary,
    deployment: Deployment,
    tmp_path: Path,
) -> None:
    seeded = seed(db_url, participants=PARTICIPANTS, small=3)
    assert seeded.participants == PARTICIPANTS + 3 and seeded.answers > 25_000
    with engine.connect() as connection:
        results = aggregate(
            connection,
            library=library,
            deployment=deployment,
            translator=T,
            scope=Scope(),
            timezone=ZONE,
            compare=parse_compare("this-month", ZoneInfo(ZONE)),
        )
    folder = tmp_path / "report"
    written = write_report(results, folder, T, title="Results")
    report = (folder / "report.md").read_text(encoding="utf-8")

    # Charts: real PNGs, 1080 wide, as high as their number of bars asks.
    pngs = sorted(folder.glob("*.png"))
    heights = expected_heights(results)
    assert len(pngs) >= 20
    for png in pngs:
        width, height = png_size(png.read_bytes())
        assert (width, height) == (WIDTH, heights[png.stem]), png.name
        assert f"]({png.name})" in report  # every chart is in the report
    # Tables: one CSV each, no shown group of 1 to 4.
    tables = sorted((folder / "tables").glob("*.csv"))
    assert len(tables) >= len(pngs)
    for table in tables:
        if "scores" not in table.name:
            assert small_numbers_in_csv(table) == [], table.name
    assert set(written) >= {folder / "report.md", *pngs, *tables}

    # The neighbourhood of three shows as "fewer than 5", in the text and the tables.
    participation = (folder / "tables" / "what-matters-participation.csv").read_text()
    header, row = list(csv.reader(participation.splitlines()))[:2]
    assert row[header.index("Haghoek / Aalderinkshoek")] == "fewer than 5"
    assert "| fewer than 5 |" in report
    # Nothing identifying in any text output, and no free text in the analysts' report.
    for path in [folder / "report.md", *tables]:
        assert_nothing_identifying(path.read_text(encoding="utf-8"), seeded.user_ids, path.name)
    assert "Een moestuin" not in report


def test_charts_can_be_limited_and_come_most_telling_first(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seed(db_url, participants=100, small=0)
    with engine.connect() as connection:
        results = aggregate(
            connection, library=library, deployment=deployment, translator=T, timezone=ZONE
        )
    made = charts(results, T, limit=3)
    assert len(made) == 3
    assert made[0].name.endswith("themes") or made[0].name.endswith("funnel")
    assert all(png_size(c.png)[0] == WIDTH for c in made)


async def test_results_in_chat_for_a_worker(
    db_url: str, library: FlowLibrary, deployment: Deployment
) -> None:
    seeded = seed(db_url, participants=200, small=3)
    database = Database(db_url)
    try:
        out = await results_messages(
            database,
            library=library,
            deployment=deployment,
            translator=T,
            neighbourhoods=["kerkelanden"],
            timezone=ZONE,
        )
        small = await results_messages(
            database,
            library=library,
            deployment=deployment,
            translator=T,
            neighbourhoods=[SMALL],
            timezone=ZONE,
        )
        town = await results_messages(
            database,
            library=library,
            deployment=deployment,
            translator=T,
            neighbourhoods=None,  # a worker for the whole town
            timezone=ZONE,
            compare=None,
        )
    finally:
        await database.close()
    texts = [m.text for m in out if isinstance(m, Say)]
    documents = [m for m in out if isinstance(m, Document)]
    assert texts and all(len(text) < 4096 for text in texts)
    joined = "\n".join(texts)
    assert "Results for Kerkelanden" in joined
    assert "Top themes:" in joined
    assert "Een moestuin beginnen" in joined  # free text: this worker's neighbourhood
    assert 1 <= len(documents) <= 6
    for document in documents:
        assert document.mime_type == "image/png"
        assert png_size(document.data)[0] == WIDTH
    assert_nothing_identifying(joined, seeded.user_ids, "chat")
    # A neighbourhood of three: nothing but "fewer than 5", and no free text.
    small_text = "\n".join(m.text for m in small if isinstance(m, Say))
    assert "fewer than 5" in small_text
    assert "Een moestuin" not in small_text
    assert_nothing_identifying(small_text, seeded.user_ids, "chat")
    town_text = "\n".join(m.text for m in town if isinstance(m, Say))
    assert "Results for Total" in town_text and "Een moestuin beginnen" in town_text


async def test_export_in_chat_for_a_worker(
    db_url: str, library: FlowLibrary, deployment: Deployment
) -> None:
    import csv as csv_module
    import io

    from bot.reports.export import export_document
    from tests.reports.conftest import SECRET

    seeded = seed(db_url, participants=50, small=0)
    database = Database(db_url)
    try:
        document = await export_document(
            database,
            library=library,
            deployment=deployment,
            secret=SECRET,
            translator=T,
            neighbourhoods=["kerkelanden"],
            fmt="csv",
        )
        workbook = await export_document(
            database,
            library=library,
            deployment=deployment,
            secret=SECRET,
            translator=T,
            neighbourhoods=["kerkelanden"],
        )
    finally:
        await database.close()
    assert document.filename.endswith(".csv") and document.caption == "Answers from Kerkelanden"
    rows = list(csv_module.DictReader(io.StringIO(document.data.decode("utf-8"))))
    assert rows and {r["neighbourhood"] for r in rows} == {"kerkelanden"}
    assert_nothing_identifying(document.data.decode("utf-8"), seeded.user_ids, "export")
    assert workbook.filename.endswith(".xlsx") and workbook.data[:2] == b"PK"
