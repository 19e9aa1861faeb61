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
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Connection, and_, exists, select

from bot.deployment import Deployment
from bot.flows.events import Document
from bot.flows.labels import FREE_TEXT_KINDS, free_text_of
from bot.flows.library import FlowLibrary
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
BATCH = 2000
FORMATS = ("csv", "xlsx")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NOT_ASKED_KINDS = frozenset({"message", "consent", "confirm"})
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
        inside = (
            select(Answer.id)
            .where(
                and_(
                    Answer.conversation_id == Conversation.id,
                    Answer.neighbourhood.in_(flt.neighbourhoods),
                )
            )
            .correlate(Conversation)
        )
        where.append(exists(inside))
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
                if step.kind not in NOT_ASKED_KINDS and step.key not in keys:
                    keys.append(step.key)
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
) -> Iterator[list[Any]]:
    """The header, then one row per run; datetimes are local and timezone-aware."""
    flt = flt or Filter()
    zone = ZoneInfo(timezone)
    columns = step_columns(connection, library, flt)
    yield [*FIXED, *(name for name, _ in columns)]
    position = {key: len(FIXED) + i for i, (_, key) in enumerate(columns)}
    free_steps = {
        (flow.id, step.key)
        for flow in library.flows.values()
        for step in flow.steps
        if step.kind in FREE_TEXT_KINDS
    }
    known_flows = set(library.flows)
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
        current[column] = _cell(value, skipped, free, free_text)
    if current is not None:
        yield current


def _safe_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_RISKY) else value


def write_csv(data: Iterator[Sequence[Any]], stream: IO[str]) -> int:
    """Write rows as CSV (RFC 4180, UTF-8); returns the number of data rows."""
    writer = csv.writer(stream, lineterminator="\r\n")
    count = -1
    for row in data:
        writer.writerow(
            [
                v.isoformat(timespec="seconds")
                if isinstance(v, datetime)
                else _safe_text(v)
                if isinstance(v, str)
                else v
                for v in row
            ]
        )
        count += 1
    return max(count, 0)


def write_xlsx(data: Iterator[Sequence[Any]], target: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write rows to an XLSX workbook in write-only mode; returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("answers")
    count = -1
    for row in data:
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
    workbook.save(target)
    return max(count, 0)


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
) -> int:
    """Export answers to `out` (a text stream for CSV, a path or binary stream for XLSX)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose csv or xlsx")
    data = rows(
        connection,
        library=library,
        secret=secret,
        timezone=timezone,
        flt=flt,
        free_text=free_text,
    )
    if fmt == "xlsx":
        return write_xlsx(data, out)  # type: ignore[arg-type]
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            return write_csv(data, handle)
    return write_csv(data, out)


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
    async with database.engine.connect() as connection:
        data = await connection.run_sync(
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
