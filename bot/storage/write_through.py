"""A turn's changed rows written with one Core UPDATE each, not the ORM's unit of work.

A conversation turn changes one or two rows it loaded: the participant (a profile
answer, consent, the language) and the active conversation (its state, every turn).
The ORM's flush works out generically what to write, in what order, and checks the
result: on SQLite that was about a quarter of a turn's CPU (benchmarks/README.md), for
two UPDATEs. `write` writes each changed participant and conversation the session holds
with one UPDATE of its changed columns, on the session's own connection and
transaction, and marks the values saved, so that the flush before the next query or at
commit finds nothing left to do. Anything else (a new row, a deleted one, another
model, a change to a relationship) is left to the flush, as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ColumnProperty, Mapper
from sqlalchemy.orm.attributes import NO_VALUE

from bot.storage.models import Conversation, Participant

WRITTEN = (Participant, Conversation)
_PK = "_pk"

# One statement a model and set of changed columns: built once, compiled once.
_statements: dict[tuple[type, frozenset[str]], Any] = {}


def _statement(mapper: Mapper[Any], keys: frozenset[str]) -> Any:
    found = _statements.get((mapper.class_, keys))
    if found is None:
        table = mapper.local_table
        (primary,) = mapper.primary_key
        columns = {key: _column(mapper, key) for key in sorted(keys)}
        found = (
            update(table)
            .where(primary == bindparam(_PK))
            .values({column.name: bindparam(f"v_{key}") for key, column in columns.items()})
        )
        _statements[(mapper.class_, keys)] = found
    return found


def _column(mapper: Mapper[Any], key: str) -> Any:
    prop = mapper.get_property(key)
    assert isinstance(prop, ColumnProperty)
    return prop.columns[0]


def _plain_columns(mapper: Mapper[Any], keys: list[str]) -> bool:
    return all(
        key in mapper.column_attrs and len(mapper.column_attrs[key].columns) == 1 for key in keys
    )


async def write(session: AsyncSession) -> None:
    """Write the changed participants and conversations of the session (see above)."""
    changed = [obj for obj in session.dirty if isinstance(obj, WRITTEN)]
    if not changed:
        return
    connection = None
    identity = session.sync_session.identity_map
    for obj in changed:
        state = inspect(obj)
        if not state.persistent or state.identity is None:
            continue
        keys = list(state.committed_state)
        mapper = state.mapper
        if not keys or not _plain_columns(mapper, keys):
            continue  # the flush writes it
        if any(key not in state.dict for key in keys):
            continue
        values = {key: state.dict[key] for key in keys}
        # Set again to what it was is no change (the flush would not write it either).
        new = [key for key in keys if not _same(state.committed_state[key], values[key])]
        if new:
            if connection is None:
                connection = await session.connection()
            parameters = {f"v_{key}": values[key] for key in new}
            await connection.execute(
                _statement(mapper, frozenset(new)), {**parameters, _PK: state.identity[0]}
            )
        # Saved, as the flush marks what it wrote (all of the row's changes were written,
        # so nothing is lost): no longer modified, so the session is clean again. A
        # private method of SQLAlchemy's (pinned in requirements.lock); the public
        # `set_committed_value` leaves the row among the modified ones, and every query
        # of the turn would then run an empty flush.
        state._commit_all(state.dict, identity)


def _same(before: Any, after: Any) -> bool:
    if before is NO_VALUE:
        return False
    try:
        return bool(before == after)
    except Exception:  # values that cannot be compared are written
        return False
