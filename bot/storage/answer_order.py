"""Each answer's place among the same person's answers: when they next answered.

Reports count a person once, with their latest answer to each question and in the
neighbourhood of their latest answer in the flow, within a period. Finding "the latest"
by sorting every answer at each view cost most of a results page (window functions;
SQLite sorts slowly). So each answer keeps when the same person next answered the same
question in the same flow (`next_in_step_at`) and anything in that flow
(`next_in_flow_at`). The latest answer before `until` is then the one with
`created_at < until` and `next IS NULL OR next >= until`: an index lookup, no sort.

The columns are derived data, recomputed here (never patched by hand) for the people
whose answers changed: where answers are stored (`conversations.store_answers`),
anonymised (`bot.privacy.retention`) or seeded. An erased person's answers are all
deleted, so nothing of theirs is left to order. An anonymised answer is a person of
its own: both columns None.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    ColumnElement,
    Connection,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    true,
    update,
)

from bot.storage.models import Answer


def _order(where: ColumnElement[bool]) -> Update:
    newest_last = (Answer.created_at, Answer.id)
    per_flow = (Answer.flow_id, Answer.participant_id)
    ordered = (
        select(
            Answer.id,
            func.lead(Answer.created_at)
            .over(partition_by=(*per_flow, Answer.step_key), order_by=newest_last)
            .label("in_step"),
            func.lead(Answer.created_at)
            .over(partition_by=per_flow, order_by=newest_last)
            .label("in_flow"),
        )
        .where(Answer.participant_id.is_not(None), where)
        .subquery("ordered")
    )
    o = ordered.c
    return (
        update(Answer)
        .where(
            Answer.id == o.id,
            or_(
                Answer.next_in_step_at.is_distinct_from(o.in_step),
                Answer.next_in_flow_at.is_distinct_from(o.in_flow),
            ),
        )
        .values(next_in_step_at=o.in_step, next_in_flow_at=o.in_flow)
        .execution_options(synchronize_session=False)
    )


def of_people(participant_ids: Iterable[int], flow_id: str | None = None) -> Update:
    """The statement that orders again the answers of these people (in one flow)."""
    where = Answer.participant_id.in_(sorted(set(participant_ids)))
    if flow_id is not None:
        where = and_(where, Answer.flow_id == flow_id)
    return _order(where)


ONE_PERSON_FLOW = _order(
    and_(Answer.participant_id == bindparam("participant"), Answer.flow_id == bindparam("flow"))
)
"""What a turn runs after storing answers (parameters `participant`, `flow`): built once,
as the other statements of a turn are."""


def order_everyone(connection: Connection) -> None:
    """Order every answer again: after a migration or a bulk insert (demo data, tests)."""
    connection.execute(_order(true()))
    connection.execute(
        update(Answer)
        .where(
            Answer.participant_id.is_(None),
            or_(Answer.next_in_step_at.is_not(None), Answer.next_in_flow_at.is_not(None)),
        )
        .values(next_in_step_at=None, next_in_flow_at=None)
    )
    if connection.dialect.name == "postgresql":
        # After a bulk load the planner's statistics are those of an empty table until
        # autovacuum comes by; the reports' joins would be planned as if for one row.
        connection.execute(text("ANALYZE answers"))
        connection.execute(text("ANALYZE conversations"))
