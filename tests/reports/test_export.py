"""The export: column layout for CSV and XLSX, filters, pseudonyms, nothing identifying."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, insert, select

from bot.flows.library import FlowLibrary
from bot.privacy import erasure, pseudonyms
from bot.reports.export import FIXED, Filter, export, export_bytes, rows
from bot.storage.db import Database
from bot.storage.models import Answer, Conversation, Participant
from tests.reports.conftest import SECRET
from tests.reports.seed import phone_like, seed

WHAT_MATTERS_COLUMNS = [
    "good",
    "change",
    "change_other",
    "change_why",
    "want_to_do",
    "contribute",
    "keep_informed",
]


@pytest.fixture
def seeded(db_url: str):
    return seed(db_url, participants=40, small=3)


def csv_export(engine: Engine, library: FlowLibrary, flt: Filter | None = None) -> str:
    out = io.StringIO()
    with engine.connect() as connection:
        export(connection, out, fmt="csv", library=library, secret=SECRET, flt=flt)
    return out.getvalue()


def test_csv_layout_one_row_per_run(seeded, engine: Engine, library: FlowLibrary) -> None:
    text = csv_export(engine, library, Filter(flow="what-matters"))
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [*FIXED, *WHAT_MATTERS_COLUMNS]
    with engine.connect() as connection:
        runs = connection.execute(
            select(Conversation.id)
            .where(Conversation.flow_id == "what-matters")
            .where(Conversation.id.in_(select(Answer.conversation_id)))
        ).all()
        people = {
            pseudonyms.pseudonym(SECRET, pid, created)
            for pid, created in connection.execute(select(Participant.id, Participant.created_at))
        }
    body = table[1:]
    assert len(body) == len(runs)
    column = {name: i for i, name in enumerate(table[0])}
    for row in body:
        assert row[column["pseudonym"]] in people
        assert row[column["flow"]] == "what-matters" and row[column["flow_version"]] == "1"
        assert row[column["status"]] in ("finished", "expired")
        started = datetime.fromisoformat(row[column["started_at"]])
        assert started.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Amsterdam
        if row[column["status"]] == "finished":
            assert row[column["keep_informed"]] in ("yes", "no")
            assert row[column["finished_at"]]
        if row[column["change"]]:
            assert set(row[column["change"]].split(";")) <= {
                "green",
                "cooking",
                "sport",
                "meeting",
                "safety",
                "money",
                "health",
                "youth",
                "other",
            }
    assert any(row[column["good"]] == "skipped" for row in body)


def test_xlsx_has_the_same_layout(seeded, engine: Engine, library: FlowLibrary) -> None:
    with engine.connect() as connection:
        data = export_bytes(
            connection,
            fmt="xlsx",
            library=library,
            secret=SECRET,
            flt=Filter(flow="what-matters"),
        )
    sheet = load_workbook(io.BytesIO(data), read_only=True)["what-matters"]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == [*FIXED, *WHAT_MATTERS_COLUMNS]
    text_rows = list(csv.reader(io.StringIO(csv_export(engine, library, Filter("what-matters")))))
    assert len(table) == len(text_rows)
    column = {name: i for i, name in enumerate(table[0])}
    first = table[1]
    assert isinstance(first[column["started_at"]], datetime)
    assert first[column["flow_version"]] == 1
    assert [r[column["pseudonym"]] for r in table[1:]] == [r[0] for r in text_rows[1:]]


def test_every_flow_at_once_and_a_step_named_like_a_column(
    seeded, engine: Engine, library: FlowLibrary
) -> None:
    header = next(csv.reader(io.StringIO(csv_export(engine, library))))
    assert header[: len(FIXED)] == list(FIXED)
    assert "neighbourhood_answer" in header  # onboarding's neighbourhood question
    assert header.count("good") == 1  # shared by what-matters and test-feedback
    assert {"age_group", "interests", "rating", *WHAT_MATTERS_COLUMNS} <= set(header)


def test_filters(seeded, engine: Engine, library: FlowLibrary) -> None:
    only = list(
        csv.DictReader(
            io.StringIO(csv_export(engine, library, Filter(neighbourhoods=("kerkelanden",))))
        )
    )
    assert only and {row["neighbourhood"] for row in only} == {"kerkelanden"}
    everything = list(csv.DictReader(io.StringIO(csv_export(engine, library))))
    middle = datetime.now(UTC) - timedelta(days=45)
    later = list(csv.DictReader(io.StringIO(csv_export(engine, library, Filter(since=middle)))))
    earlier = list(csv.DictReader(io.StringIO(csv_export(engine, library, Filter(until=middle)))))
    assert later and earlier and len(later) + len(earlier) == len(everything)
    assert all(datetime.fromisoformat(r["started_at"]) >= middle for r in later)


def test_no_chat_id_or_phone_number_in_any_export(
    seeded, engine: Engine, library: FlowLibrary
) -> None:
    text = csv_export(engine, library)
    with engine.connect() as connection:
        workbook = export_bytes(connection, fmt="xlsx", library=library, secret=SECRET)
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    cells = " ".join(
        str(v)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
        if isinstance(v, str)
    )
    assert "[…]" in text  # the seeded contact details were there, and were taken out
    for output in (text, cells):
        for user_id in seeded.user_ids:
            assert user_id not in output
        assert phone_like(output) == []
        assert "@" not in output


def test_free_text_can_be_left_out(seeded, engine: Engine, library: FlowLibrary) -> None:
    out = io.StringIO()
    with engine.connect() as connection:
        export(
            connection,
            out,
            library=library,
            secret=SECRET,
            flt=Filter(flow="what-matters"),
            free_text=False,
        )
    rows_ = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["want_to_do"] for r in rows_} <= {"", "skipped"}
    assert any(r["change"] for r in rows_)


def test_a_formula_is_never_run(db_url: str, engine: Engine, library: FlowLibrary) -> None:
    seed(db_url, participants=5, small=0, extra_flows=False)
    with engine.begin() as connection:
        answer = connection.execute(
            select(Answer.id).where(Answer.step_key == "change_why").limit(1)
        ).scalar_one()
        connection.execute(
            Answer.__table__.update()
            .where(Answer.id == answer)
            .values(value='=HYPERLINK("http://evil.example","x")')
        )
    text = csv_export(engine, library, Filter(flow="what-matters"))
    assert "'=HYPERLINK" in text
    with engine.connect() as connection:
        data = export_bytes(
            connection, fmt="xlsx", library=library, secret=SECRET, flt=Filter("what-matters")
        )
    sheet = load_workbook(io.BytesIO(data))["what-matters"]
    found = [c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYPER")]
    assert found and all(c.data_type == "s" for c in found)


async def test_an_erased_person_is_not_in_the_next_export(
    seeded, db_url: str, engine: Engine, library: FlowLibrary
) -> None:
    with engine.connect() as connection:
        pid, created = connection.execute(
            select(Participant.id, Participant.created_at).order_by(Participant.id).limit(1)
        ).one()
    name = pseudonyms.pseudonym(SECRET, pid, created)
    assert name in csv_export(engine, library)
    database = Database(db_url)
    async with database.transaction() as session:
        await erasure.erase_person(session, pid)
    await erasure.vacuum_after_erase(database)
    await database.close()
    assert name not in csv_export(engine, library)


def test_rows_stream(db_url: str, engine: Engine, library: FlowLibrary) -> None:
    """Rows come one by one from a generator reading the database in batches."""
    seed(db_url, participants=30, small=0, extra_flows=False)
    with engine.begin() as connection:
        connection.execute(
            insert(Answer),
            [
                {
                    "participant_id": None,
                    "conversation_id": None,
                    "flow_id": "what-matters",
                    "flow_version": 1,
                    "step_key": "change",
                    "value": ["green"],
                    "created_at": datetime.now(UTC),
                }
            ],
        )
    with engine.connect() as connection:
        produced = rows(connection, library=library, secret=SECRET, flt=Filter("what-matters"))
        header = next(produced)
        first = next(produced)
        assert header[0] == "pseudonym" and first[0].startswith("P-")
        rest = list(produced)
        runs = connection.execute(
            select(Conversation.id)
            .where(Conversation.flow_id == "what-matters")
            .where(Conversation.id.in_(select(Answer.conversation_id)))
        ).all()
    # A run without answers has no row; an anonymised answer belongs to no run.
    assert len(rest) + 1 == len(runs)


def test_a_workbook_an_analyst_can_open(
    seeded, engine: Engine, library: FlowLibrary, deployment
) -> None:
    from bot.flows.labels import Labels
    from bot.i18n.catalogs import Catalogs

    catalogs = Catalogs(default="nl")
    books = [(code, Labels(library, deployment, catalogs(code))) for code in ("nl", "en")]
    target = io.BytesIO()
    with engine.connect() as connection:
        export(connection, target, fmt="xlsx", library=library, secret=SECRET, books=books)
    book = load_workbook(io.BytesIO(target.getvalue()))
    # A sheet a flow, each with only its own columns, and the codebook.
    assert book.sheetnames[-1] == "codebook"
    assert set(book.sheetnames) == {"onboarding", "what-matters", "test-feedback", "codebook"}
    matters = book["what-matters"]
    header = [c.value for c in matters[1]]
    assert header == [*FIXED, *WHAT_MATTERS_COLUMNS]
    assert matters.freeze_panes == "A2" and matters.auto_filter.ref.startswith("A1:")
    code = [[c.value for c in row] for row in book["codebook"].iter_rows()]
    assert code[0][:5] == ["flow", "column", "kind", "question_nl", "question_en"]
    green = next(r for r in code if r[1] == "interests" and r[5] == "green")
    assert green[3] == "Waar heb je interesse in?" or green[3].endswith("?")
    assert green[6] != green[7] and "Green" in green[7]


def test_labels_and_csv_for_dutch_excel(
    seeded, engine: Engine, library: FlowLibrary, deployment
) -> None:
    from bot.flows.labels import Labels
    from bot.i18n.catalogs import Catalogs

    labels = Labels(library, deployment, Catalogs(default="nl")("nl"))
    out = io.StringIO()
    with engine.connect() as connection:
        export(
            connection,
            out,
            library=library,
            secret=SECRET,
            flt=Filter(flow="test-feedback"),
            labels=labels,
            excel=True,
        )
    text = out.getvalue()
    assert text.startswith("\ufeff") and ";" in text.splitlines()[0]
    rows_ = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert {r["went"] for r in rows_} == {"Ja"}  # a label in Dutch, not `yes`
    assert all(" " in r["started_at"] and "+" not in r["started_at"] for r in rows_)
