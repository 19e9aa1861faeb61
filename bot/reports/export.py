"""The pseudonymous export of answers, as CSV or XLSX, streamed.

One row per participant and flow run (conversation): the person's pseudonym (never a
chat id, phone number or name), the flow and its version, language, neighbourhood,
status, start and finish time (in the deployment's time zone), and one column per step
of the flow, holding the stored value: option codes (`green;sport` for several), `yes`
or `no`, numbers, dates, and free text with phone numbers, e-mail addresses and handles
taken out. A step that was skipped reads `skipped`; an empty cell was not asked or not
answered. A step whose key equals a fixed column (`language`, `neighbourhood`) gets the
suffix `_answer`. Anonymised answers (older than the retention period) belong to no
run and are not exported; reports still count them.

The rows come from one query ordered by conversation and read with a server-side cursor
(`yield_per`), so memory stays flat however many answers there are; XLSX is written with
openpyxl's write-only mode, which spools rows to disk.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection, select

from bot.deployment import Deployment
from bot.flows.events import Document
from bot.flows.labels import FREE_TEXT_KINDS, Labels, free_text_of
from bot.flows.library import FlowLibrary
from bot.flows.steps.base import SKIP
from bot.i18n.translator import Translator
from bot.privacy.pseudonyms import pseudonym
from bot.privacy.redact import redact
from bot.reports.counting import left_out
from bot.storage.db import Database
from bot.storage.models import Answer, Conversation, Participant

FIXED = (
    "pseudonym",
    "flow",
    "flow_version",
    "language",
    "neighbourhood",
    "status",
    "started_at",
    "finished_at",
)
SKIPPED = "skipped"
CODEBOOK = "codebook"
BATCH = 2000
FORMATS = ("csv", "xlsx")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NOT_ASKED_KINDS = frozenset({"message", "consent", "confirm", "subflow"})
_RISKY = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filter:
    """Which runs to export: a flow, some neighbourhoods, runs started in a date range."""

    flow: str | None = None
    neighbourhoods: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None


def _where(flt: Filter, library: FlowLibrary) -> list[Any]:
    where: list[Any] = []
    if flt.flow:
        where.append(Conversation.flow_id == flt.flow)
    else:
        where.append(Conversation.flow_id.not_in(left_out(library)))
    if flt.since is not None:
        where.append(Conversation.started_at >= flt.since)
    if flt.until is not None:
        where.append(Conversation.started_at < flt.until)
    if flt.neighbourhoods is not None:
        # The runs with an answer there, found once (a list to look runs up in), not
        # looked for again for every answer of every run.
        inside = select(Answer.conversation_id).where(Answer.neighbourhood.in_(flt.neighbourhoods))
        where.append(Conversation.id.in_(inside))
    return where


def step_columns(
    connection: Connection, library: FlowLibrary, flt: Filter
) -> list[tuple[str, str]]:
    """(column name, step key) for every step in the export, in the flows' order."""
    found = connection.execute(
        select(Conversation.flow_id, Answer.step_key)
        .join(Answer, Answer.conversation_id == Conversation.id)
        .where(*_where(flt, library))
        .distinct()
    ).all()
    flows = sorted({f for f, _ in found} | ({flt.flow} if flt.flow else set()))
    order = {flow_id: i for i, flow_id in enumerate(library.flows)}
    flows.sort(key=lambda f: (order.get(f, len(order)), f))
    keys: list[str] = []
    for flow_id in flows:
        flow = library.get(flow_id)
        if flow is not None:
            for step in flow.steps:
                if step.kind not in NOT_ASKED_KINDS and step.answer_as not in keys:
                    keys.append(step.answer_as)
        for f, key in sorted(found):
            if f == flow_id and key not in keys:
                keys.append(key)
    return [(f"{key}_answer" if key in FIXED else key, key) for key in keys]


def _cell(value: Any, skipped: bool, free: bool, free_text: bool) -> Any:
    if skipped:
        return SKIPPED
    if value is None:
        return ""
    if free:
        text = free_text_of(value)
        if text is not None:
            return redact(text) if free_text else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return f"[{value.get('kind', 'media')}]"
    if isinstance(value, int | float):
        return value
    return str(value)


def rows(
    connection: Connection,
    *,
    library: FlowLibrary,
    secret: bytes,
    timezone: str = "Europe/Amsterdam",
    flt: Filter | None = None,
    free_text: bool = True,
    labels: Labels | None = None,
) -> Iterator[list[Any]]:
    """The header, then one row per run; datetimes are local and timezone-aware. With
    `labels`, options read as their labels (in that language) instead of their codes."""
    flt = flt or Filter()
    zone = ZoneInfo(timezone)
    columns = step_columns(connection, library, flt)
    yield [*FIXED, *(name for name, _ in columns)]
    position = {key: len(FIXED) + i for i, (_, key) in enumerate(columns)}
    # Polls written in the dashboard too (read into the library by the caller).
    free_steps = {
        (flow.id, step.answer_as)
        for flow in library.every()
        for step in flow.steps
        if step.kind in FREE_TEXT_KINDS
    }
    known_flows = {flow.id for flow in library.every()}
    stmt = (
        select(
            Conversation.id,
            Conversation.participant_id,
            Participant.created_at,
            Conversation.flow_id,
            Conversation.flow_version,
            Conversation.status,
            Conversation.started_at,
            Conversation.finished_at,
            Participant.language,
            Answer.step_key,
            Answer.value,
            Answer.skipped,
            Answer.language,
            Answer.neighbourhood,
        )
        .join(Answer, Answer.conversation_id == Conversation.id)
        .join(Participant, Participant.id == Conversation.participant_id)
        .where(*_where(flt, library))
        .order_by(Conversation.id)
    )
    current: list[Any] | None = None
    current_id = None
    for row in connection.execution_options(yield_per=BATCH).execute(stmt):
        (cid, pid, created, flow_id, version, status, started, finished, profile_language) = row[:9]
        step_key, value, skipped, language, neighbourhood = row[9:]
        if cid != current_id:
            if current is not None:
                yield current
            current_id = cid
            current = [""] * (len(FIXED) + len(columns))
            current[:8] = [
                pseudonym(secret, pid, created),
                flow_id,
                version,
                language or profile_language or "",
                neighbourhood or "",
                status,
                started.astimezone(zone) if started else "",
                finished.astimezone(zone) if finished else "",
            ]
        assert current is not None
        if not current[3] and language:
            current[3] = language
        if not current[4] and neighbourhood:
            current[4] = neighbourhood
        free = (flow_id, step_key) in free_steps or flow_id not in known_flows
        column = position.get(step_key)
        if column is None:  # answered after the columns were read (a live database)
            continue
        if labels is not None and not free and value is not None:
            current[column] = labels.shown(flow_id, step_key, value, skipped)
        else:
            current[column] = _cell(value, skipped, free, free_text)
    if current is not None:
        yield current


def _safe_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_RISKY) else value


def write_csv(data: Iterator[Sequence[Any]], stream: IO[str], *, excel: bool = False) -> int:
    """Write rows as CSV (RFC 4180, UTF-8); returns the number of data rows.

    `excel`: as Excel in a Dutch locale opens it with a double click: `;` between
    fields, a byte order mark so it reads UTF-8, a decimal comma, times without zone.
    """
    writer = csv.writer(stream, delimiter=";" if excel else ",", lineterminator="\r\n")
    if excel:
        stream.write("\ufeff")
    count = -1
    for row in data:
        writer.writerow([_csv_value(v, excel) for v in row])
        count += 1
    return max(count, 0)


def _csv_value(value: Any, excel: bool) -> Any:
    if isinstance(value, datetime):
        if excel:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        return _safe_text(value)
    if excel and isinstance(value, float):
        return str(value).replace(".", ",")
    return value


def write_xlsx(
    sheets: Sequence[tuple[str, Iterator[Sequence[Any]]]],
    target: str | os.PathLike[str] | IO[bytes],
    codebook: Sequence[Sequence[Any]] = (),
) -> int:
    """Write a sheet for each (name, rows) and a codebook sheet to an XLSX workbook in
    write-only mode, each with its header frozen and filters on; returns the number of
    data rows."""
    workbook = Workbook(write_only=True)
    count = 0
    for name, data in sheets:
        count += _sheet(workbook, name, data)
    if codebook:
        _sheet(workbook, CODEBOOK, iter(codebook))
    if not workbook.worksheets:
        _sheet(workbook, "answers", iter([list(FIXED)]))
    workbook.save(target)
    return count


def _sheet(workbook: Workbook, name: str, data: Iterator[Sequence[Any]]) -> int:
    sheet = workbook.create_sheet(_sheet_name(name))
    sheet.freeze_panes = "A2"
    count = -1
    width = 0
    for row in data:
        width = max(width, len(row))
        cells: list[Any] = []
        for value in row:
            if value == "":
                value = None  # an empty cell is not written at all
            elif isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # Excel has no time zones: local time
            elif isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith("="):  # openpyxl would store it as a formula
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"
                    value = cell
            cells.append(value)
        sheet.append(cells)
        count += 1
    if width:
        sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{count + 1}"
    return max(count, 0)


def _sheet_name(name: str) -> str:
    """A sheet's name as Excel allows it: 31 characters, none of []:*?/\\."""
    return "".join("-" if c in "[]:*?/\\" else c for c in name)[:31] or "answers"


def flows_in(connection: Connection, library: FlowLibrary, flt: Filter) -> list[str]:
    """The flows with runs in the export, in the library's order."""
    if flt.flow:
        return [flt.flow]
    found = set(
        connection.scalars(
            select(Conversation.flow_id)
            .join(Answer, Answer.conversation_id == Conversation.id)
            .where(*_where(flt, library))
            .distinct()
        )
    )
    order = {flow_id: i for i, flow_id in enumerate(library.flows)}
    return sorted(found, key=lambda f: (order.get(f, len(order)), f))


def codebook(
    library: FlowLibrary, flow_ids: Sequence[str], books: Sequence[tuple[str, Labels]]
) -> list[list[Any]]:
    """What each column's codes mean: a row per option of each question, with the
    question and the option's label in each language of `books` (Dutch and English)."""
    header: list[Any] = ["flow", "column", "kind"]
    header += [f"question_{code}" for code, _ in books]
    header += ["code"] + [f"label_{code}" for code, _ in books]
    found: list[list[Any]] = [header]
    for flow_id in flow_ids:
        flow = library.get(flow_id)
        if flow is None:
            continue
        done: set[str] = set()
        for step in flow.steps:
            if step.kind in NOT_ASKED_KINDS or step.answer_as in done:
                continue
            done.add(step.answer_as)  # steps sharing an answer key: one column
            key = step.answer_as
            column = f"{key}_answer" if key in FIXED else key
            questions = [labels.question(flow_id, key, width=500) for _, labels in books]
            first = books[0][1]
            codes = list(first.options(flow_id, key)) if step.kind != "text" else []
            if step.kind in FREE_TEXT_KINDS or not codes:
                found.append([flow_id, column, step.kind, *questions, "", *([""] * len(books))])
                continue
            for code in codes:
                shown = [labels.option(flow_id, key, code) for _, labels in books]
                stored = SKIPPED if code == SKIP else code
                found.append([flow_id, column, step.kind, *questions, stored, *shown])
    return found


def export(
    connection: Connection,
    out: IO[Any] | str | os.PathLike[str],
    *,
    fmt: str = "csv",
    library: FlowLibrary,
    secret: bytes,
    timezone: str = "Europe/Amsterdam",
    flt: Filter | None = None,
    free_text: bool = True,
    labels: Labels | None = None,
    books: Sequence[tuple[str, Labels]] = (),
    excel: bool = False,
) -> int:
    """Export answers to `out` (a text stream for CSV, a path or binary stream for XLSX).

    XLSX has a sheet a flow (its own columns) and, with `books` (language, labels), a
    codebook sheet; `labels` writes option labels instead of codes; `excel` writes CSV
    for Excel in a Dutch locale."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose csv or xlsx")
    flt = flt or Filter()
    options = {
        "library": library,
        "secret": secret,
        "timezone": timezone,
        "free_text": free_text,
        "labels": labels,
    }
    if fmt == "xlsx":
        flow_ids = flows_in(connection, library, flt)
        sheets = [
            (flow_id, rows(connection, flt=replace(flt, flow=flow_id), **options))
            for flow_id in flow_ids
        ]
        book = codebook(library, flow_ids, books) if books else []
        return write_xlsx(sheets, out, book)  # type: ignore[arg-type]
    data = rows(connection, flt=flt, **options)
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            return write_csv(data, handle, excel=excel)
    return write_csv(data, out, excel=excel)


def export_bytes(connection: Connection, *, fmt: str = "xlsx", **options: Any) -> bytes:
    """The whole export as bytes (for a chat document); spooled to disk when large."""
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        if fmt == "csv":
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="")  # type: ignore[arg-type]
            export(connection, text, fmt="csv", **options)
            text.flush()
            text.detach()
        else:
            export(connection, spool, fmt="xlsx", **options)  # type: ignore[arg-type]
        spool.seek(0)
        return spool.read()


async def export_document(
    database: Database,
    *,
    library: FlowLibrary,
    deployment: Deployment,
    secret: bytes,
    translator: Translator,
    neighbourhoods: Sequence[str] | None,
    flow: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    fmt: str = "xlsx",
    timezone: str = "Europe/Amsterdam",
) -> Document:
    """`/export` for a worker: the answers of their neighbourhoods as a file to send.

    The caller has checked that the person is a worker of `neighbourhoods` (None or
    empty: of the whole town); free text is included because it is theirs to read (with
    contact details taken out).
    """
    if not neighbourhoods:
        neighbourhoods = [n.key for n in deployment.neighbourhoods]
    flt = Filter(flow, tuple(neighbourhoods), since, until)
    data = await database.in_thread(
        lambda sync: export_bytes(
            sync,
            fmt=fmt,
            library=library,
            secret=secret,
            timezone=timezone,
            flt=flt,
            free_text=True,
        )
    )
    names = ", ".join(
        (found.name if (found := deployment.neighbourhood(key)) else key) for key in neighbourhoods
    )
    stamp = datetime.now(ZoneInfo(timezone)).strftime("%Y-%m-%d")
    return Document(
        filename=f"answers-{stamp}.{fmt}",
        data=data,
        caption=translator.gettext("Answers from {neighbourhoods}").format(neighbourhoods=names),
        mime_type=MIME[fmt],
    )
