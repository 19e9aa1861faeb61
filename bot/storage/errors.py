"""Database errors told without what was in them.

A failed statement's error text carries the values it wrote: SQLAlchemy appends
`[parameters: (...)]` (unless the engine has `hide_parameters=True`, as every engine
here has), and PostgreSQL adds `DETAIL: Failing row contains (..., 'what a resident
wrote', '123456789')`. Logs, `data/health.json` and `buurtbot health` must not hold a
resident's words or chat id, so a database error is told as a short summary: the kind
of error, the table and the constraint (`IntegrityError on table inbox`).

`install_log_scrubber()` makes every log record do this: an error passed as an argument
is replaced by its summary, and a traceback's database errors show their summary
instead of their text. `describe(error)` is the one-line form for health and the
outbox's reasons.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

_TABLE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|FROM)\s+\"?([A-Za-z_][\w]*)\"?",
    re.IGNORECASE,
)
_DRIVERS = ("psycopg", "sqlite3", "aiosqlite", "sqlalchemy", "asyncpg")


def is_database_error(error: object) -> bool:
    """Whether `error` comes from the database or its driver (and may hold row values)."""
    if not isinstance(error, BaseException):
        return False
    if isinstance(error, SQLAlchemyError):
        return True
    module = type(error).__module__ or ""
    return module.split(".")[0] in _DRIVERS


def summary(error: BaseException) -> str:
    """`IntegrityError on table inbox (constraint inbox_text_check)`: no values."""
    original = getattr(error, "orig", None) or error
    name = type(original).__name__
    if name in ("Error", "DatabaseError") and original is not error:
        name = type(error).__name__
    diag = getattr(original, "diag", None)
    table = getattr(diag, "table_name", None) if diag is not None else None
    constraint = getattr(diag, "constraint_name", None) if diag is not None else None
    statement = getattr(error, "statement", None)
    if not table and isinstance(statement, str):
        found = _TABLE.search(statement)
        table = found.group(1) if found else None
    text = f"{name} on table {table}" if table else f"{name} in the database"
    if constraint:
        text += f" (constraint {constraint})"
    return text


def describe(error: BaseException) -> str:
    """One line about an error for health and logs: a summary for database errors."""
    if is_database_error(error):
        return summary(error)
    return str(error) or type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return seen


def involves_database(error: BaseException) -> bool:
    return any(is_database_error(e) for e in _chain(error))


def safe_traceback(error: BaseException) -> str:
    """A traceback like Python's, with each database error's text replaced by its
    summary (code lines are shown, values never)."""
    parts: list[str] = []
    for index, current in enumerate(reversed(_chain(error))):
        if index:
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(current.__traceback__))
        kind = f"{type(current).__module__}.{type(current).__qualname__}"
        parts.append(f"{kind}: {describe(current)}\n")
    return "".join(parts).rstrip("\n")


def _scrub(value: Any) -> Any:
    if isinstance(value, BaseException) and involves_database(value):
        return describe(value) if is_database_error(value) else value
    return value


_installed = False


def install_log_scrubber() -> None:
    """Make every log record tell database errors by their summary (once a process)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_scrub(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _scrub(value) for key, value in record.args.items()}
        if isinstance(record.msg, BaseException):
            record.msg = _scrub(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if involves_database(error):
                record.exc_text = safe_traceback(error)
        return record

    logging.setLogRecordFactory(factory)
