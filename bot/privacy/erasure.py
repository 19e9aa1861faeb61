"""Erasing a person: every row of theirs in every table, then out of SQLite's files.

What belongs to a person is read from the schema, so a table added later (the outbox,
invitations, RSVPs, proposals) is covered without a change here. Starting from
`participants`, a table's rows belong to the person when they point at a row of the
person through a foreign key that is `ON DELETE CASCADE` or `NOT NULL`; those rows are
deleted, children before parents. A nullable foreign key that is `SET NULL` (or has no
rule) only links someone else's row to the person — an activity a worker created, a
message about a conversation — so that link is set to NULL and the row stays.

Two tables hold a person's traces without a foreign key. Updates still waiting in the
inbox (at least the one that confirmed /forget) are deleted by their sender. Inbound
receipts stay: they keep a keyed hash of an update key, no id of the person.

SQLite keeps deleted data in two places a query does not see: free space in its pages
and the write-ahead log. `secure_delete` (on for every connection, see
`bot.storage.db`) overwrites deleted cells; `vacuum_after_erase` then checkpoints the
WAL into the file and truncates it to zero bytes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Table,
    delete,
    false,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.models import Base, Participant

log = logging.getLogger(__name__)

ROOT = "participants"


@dataclass(frozen=True)
class Link:
    """A foreign key `column` of `table` that points at `parent` (a table of the person)."""

    table: Table
    column: Column[Any]
    parent: Table
    owning: bool


@dataclass(frozen=True)
class Plan:
    """Which tables hold a person's rows, and how to find them."""

    root: Table
    owned: tuple[Table, ...]  # children before parents; the root last
    links: tuple[Link, ...]

    def owning_links(self, table: Table) -> list[Link]:
        return [link for link in self.links if link.table is table and link.owning]

    def nulling_links(self) -> list[Link]:
        return [link for link in self.links if not link.owning]

    def condition(self, table: Table, participant_id: int) -> ColumnElement[bool]:
        """The rows of `table` that belong to the person."""
        if table is self.root:
            return _pk(table) == participant_id
        parts = [self._points_at(link, participant_id) for link in self.owning_links(table)]
        return or_(*parts) if parts else false()

    def linked(self, link: Link, participant_id: int) -> ColumnElement[bool]:
        """The rows of `link.table` whose `link.column` points at a row of the person."""
        return self._points_at(link, participant_id)

    def _points_at(self, link: Link, participant_id: int) -> ColumnElement[bool]:
        if link.parent is self.root:
            return link.column == participant_id
        parent_rows = select(_pk(link.parent)).where(self.condition(link.parent, participant_id))
        return link.column.in_(parent_rows)


def _pk(table: Table) -> Column[Any]:
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise ValueError(f"{table.name}: erasure needs a single-column primary key")
    return columns[0]


def _owning(column: Column[Any], ondelete: str | None) -> bool:
    rule = (ondelete or "").upper()
    if rule == "CASCADE":
        return True
    if rule in ("SET NULL", "SET DEFAULT"):
        return False
    return not column.nullable


def build_plan(metadata: MetaData, root: str = ROOT) -> Plan:
    """Follow foreign keys from `root` to every table that holds rows of a person."""
    root_table = metadata.tables[root]
    owned: set[str] = {root}
    links: dict[tuple[str, str], Link] = {}
    changed = True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent = fk.column.table
                if parent.name not in owned or (table.name, fk.parent.name) in links:
                    continue
                link = Link(table, fk.parent, parent, _owning(fk.parent, fk.ondelete))
                links[(table.name, fk.parent.name)] = link
                if link.owning and table.name not in owned:
                    owned.add(table.name)
                changed = True
    order = [t for t in reversed(metadata.sorted_tables) if t.name in owned and t is not root_table]
    return Plan(root_table, (*order, root_table), tuple(links.values()))


@cache
def plan() -> Plan:
    """The plan for the bot's own schema (every model module imported)."""
    return build_plan(Base.metadata)


async def erase_person(session: AsyncSession, participant_id: int) -> dict[str, int]:
    """Delete everything of one person in every table; return the rows touched per table.

    Runs in the caller's transaction (the turn that confirmed /forget), so the erasure
    and the reply are one unit. Call `vacuum_after_erase` after the commit.
    """
    the_plan = plan()
    owned = {table.name for table in the_plan.owned}
    # Write what is pending first, so that nothing of the person is flushed afterwards.
    await session.flush()
    touched: dict[str, int] = {}
    account = (
        await session.execute(
            select(Participant.channel, Participant.channel_user_id).where(
                Participant.id == participant_id
            )
        )
    ).first()
    if account is not None and (waiting := await inbox.forget_sender(session, *account)):
        touched["inbox"] = waiting
    for link in the_plan.nulling_links():
        result = await session.execute(
            update(link.table)
            .where(the_plan.linked(link, participant_id))
            .values({link.column.name: None})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            touched[f"{link.table.name}.{link.column.name}"] = result.rowcount
    for table in the_plan.owned:
        result = await session.execute(
            delete(table)
            .where(the_plan.condition(table, participant_id))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            touched[table.name] = result.rowcount
    # The rows went behind the ORM's back: loaded objects of these tables leave the
    # session (they are all clean after the flush), so none is written back.
    for obj in list(session.sync_session.identity_map.values()):
        if sa_inspect(obj).mapper.local_table.name in owned:
            session.expunge(obj)
    log.info("erased a person: %s", touched)
    return touched


async def vacuum_after_erase(database: Database, attempts: int = 20) -> bool:
    """Make erased rows leave SQLite's files: checkpoint the WAL and truncate it.

    `secure_delete` has already overwritten the deleted cells in the pages; the
    checkpoint writes those pages into the database file and `TRUNCATE` empties the WAL,
    which still held the old page images. A reader holding an old snapshot blocks the
    checkpoint, so it is retried for a short while. Returns whether it completed.
    PostgreSQL needs nothing here: deleted rows are unreachable at once and its own
    vacuum reclaims them (backups and WAL archives follow their own retention).
    """
    if not database.is_sqlite:
        return True
    for attempt in range(attempts):
        async with database.engine.connect() as connection:
            row = (await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
        busy = row[0]
        if not busy:
            return True
        await asyncio.sleep(0.05 * (attempt + 1))
    log.warning("the WAL checkpoint after an erasure did not complete; it runs again later")
    return False
