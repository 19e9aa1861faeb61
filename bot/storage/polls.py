"""Reading polls from the database as flows, for whichever process needs one.

Several `buurtbot run` processes may share one PostgreSQL database: a poll written in
the dashboard of one must be runnable by the others. So a poll's flow is looked up
where a flow id is looked up (`find`), and read from the database when this process
does not know it yet. A poll does not change once written, so what a process has read
stays right.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows import polls as poll_flows
from bot.flows.library import FlowLibrary
from bot.flows.model import Flow
from bot.storage.models.polls import Poll


def flow_of(poll: Poll) -> Flow:
    return poll_flows.poll_flow(poll.id, poll.question, poll.options, poll.thanks, poll.language)


def _added(library: FlowLibrary, polls: Iterable[Poll]) -> list[Flow]:
    flows = []
    for poll in polls:
        fid = poll_flows.flow_id(poll.id)
        flow = library.get(fid)
        if flow is None:
            flow = flow_of(poll)
            library.add(flow)
        flows.append(flow)
    return flows


async def find(session: AsyncSession, library: FlowLibrary, flow_id: str | None) -> Flow | None:
    """Flow `flow_id`: from the library, or, for a poll this process has not read yet,
    from the database (and kept in the library)."""
    if not flow_id:
        return None
    found = library.get(flow_id)
    if found is not None:
        return found
    number = poll_flows.poll_id(flow_id)
    if number is None:
        return None
    poll = await session.get(Poll, number)
    return _added(library, [poll])[0] if poll is not None else None


async def load_all(session: AsyncSession, library: FlowLibrary) -> list[Flow]:
    """Every stored poll's flow, newest first, each kept in the library."""
    polls = (await session.scalars(select(Poll).order_by(Poll.id.desc()))).all()
    return _added(library, polls)


def load_all_sync(connection: Connection, library: FlowLibrary) -> list[Flow]:
    """The same for the command line's plain connection; none before the table exists."""
    if "polls" not in inspect(connection).get_table_names():
        return []
    columns = (Poll.id, Poll.question, Poll.options, Poll.thanks, Poll.language)
    rows = connection.execute(select(*columns).order_by(Poll.id.desc())).all()
    polls = [
        Poll(
            id=row.id,
            question=row.question,
            options=row.options,
            thanks=row.thanks,
            language=row.language,
        )
        for row in rows
    ]
    return _added(library, polls)
