"""This process among the others: registered, alive by an advisory lock, leading roles.

Several `buurtbot run` processes can share one PostgreSQL database (docs/deployment.md).
They need no cluster manager of their own; PostgreSQL is one:

* **Alive.** At start a process registers a row in `processes` and takes a session
  advisory lock on its id, on a connection it keeps open. PostgreSQL drops the lock
  when that connection ends, `kill -9` included, so "alive" is "its lock is held"
  (`pg_locks`), never a guess from a heartbeat's age.
* **Leading.** What must happen once in the deployment (reading Telegram's long poll
  or Signal's event stream, the periodic jobs) is a role: a process leads it while it
  holds the role's advisory lock on that same connection. Every process tries to take
  the roles it can fill every `every` seconds, so a dead leader's roles pass to another
  within that time. A lost connection means lost locks: the roles are dropped at once.
* **Claims.** Every beat, updates claimed by a process that is no longer alive are
  released for the others to claim (`inbox.release`); a live one renews its leases.
* **Heartbeat.** Every beat the row gets the time, the roles and the parts' health:
  `buurtbot health` and the dashboard read them (`overview`).

On SQLite there is one process: it leads every role, and `shared` is False (the inbox
keeps its one-process way). The lock keys are salted with the schema's name, so that
deployments (or test runs) in different schemas of one database never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import inbox
from bot.storage.db import Database
from bot.storage.models import RunningProcess, utcnow

log = logging.getLogger(__name__)

BEAT = 5.0  # seconds between heartbeats, role tries and claim releases
KEEP_STOPPED = timedelta(days=1)  # a stopped process's row is kept this long

TABLE = RunningProcess.__table__

# Roles a process may lead; one process at a time leads each.
TELEGRAM_UPDATES = "telegram-updates"
SIGNAL_EVENTS = "signal-events"
JOBS = "jobs"


def _key(name: str) -> int:
    """A stable int4 for a name (advisory locks take two int4s)."""
    return zlib.crc32(name.encode()) & 0x3FFFFFFF


_ALIVE = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid::bigint = :space AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class Presence:
    """This process's place among the processes sharing the database.

    Not started (tests that build a channel by hand, the command line), or on SQLite,
    it leads every role and `shared` is False.
    """

    def __init__(self, database: Database, every: float = BEAT):
        self.database = database
        self.every = every
        self.id: int | None = None
        self._wanted: list[str] = []
        self._leading: set[str] = set()
        self._since: dict[str, datetime] = {}  # when this process took each role it leads
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._space = 0
        self._parts: Callable[[], dict[str, Any]] = dict
        self._renewals: list[Callable[[AsyncConnection], Any]] = []
        self._changed: list[Callable[[], None]] = []

    # ---- what the parts ask ------------------------------------------------------------

    @property
    def shared(self) -> bool:
        """Whether other processes may share the work (PostgreSQL, started)."""
        return self._connection is not None

    def want(self, role: str) -> None:
        """This process can fill `role` and will take it when it is free."""
        if role not in self._wanted:
            self._wanted.append(role)

    def leads(self, role: str) -> bool:
        """Whether this process leads `role` now."""
        return not self.shared or role in self._leading

    def leading_since(self, role: str) -> datetime | None:
        """Since when this process leads `role`; None when it always does (alone)."""
        return self._since.get(role) if self.shared else None

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever the roles this process leads change."""
        self._changed.append(callback)

    def on_beat(self, renew: Callable[[AsyncConnection], Any]) -> None:
        """Run `renew(connection)` (a coroutine function) every beat while shared."""
        self._renewals.append(renew)

    def report(self, parts: Callable[[], dict[str, Any]]) -> None:
        """What each part says about its health, written with every heartbeat."""
        self._parts = parts

    # ---- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Register; on PostgreSQL take this process's lock and the free roles."""
        async with self.database.engine.begin() as connection:
            await connection.execute(
                delete(TABLE).where(TABLE.c.stopped_at < utcnow() - KEEP_STOPPED)
            )
            result = await connection.execute(
                insert(TABLE)
                .values(
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                    leads=[],
                    parts={},
                )
                .returning(TABLE.c.id)
            )
            self.id = int(result.scalar_one())
        if not self.database.is_sqlite:
            await self._connect()
            await self._take_roles()
        await self._write()
        self._task = asyncio.create_task(self._beat(), name="process-presence")

    async def refresh(self) -> None:
        """Take the free roles wanted since the start, and write the heartbeat now."""
        if self._connection is not None:
            await self._take_roles()
        await self._write()

    async def stop(self) -> None:
        """Give up the roles and the lock (by closing the connection); mark the row."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()
        if self.id is not None:
            with contextlib.suppress(Exception):
                async with self.database.engine.begin() as connection:
                    await connection.execute(
                        update(TABLE)
                        .where(TABLE.c.id == self.id)
                        .values(stopped_at=utcnow(), leads=[], parts=self._parts_now())
                    )

    # ---- the beat ----------------------------------------------------------------------

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                if not self.database.is_sqlite:
                    if self._connection is None:
                        await self._connect()
                    await self._take_roles()
                    await self._release_dead()
                await self._write()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("processes: the heartbeat failed (%s); roles given up", error)
                await self._disconnect()

    async def _connect(self) -> None:
        assert self.id is not None
        connection = await self.database.engine.connect()
        try:
            schema = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
            self._space = _key(f"buurtbot:{schema}")
            await connection.execute(
                text("SELECT pg_advisory_lock(:space, :id)"), {"space": self._space, "id": self.id}
            )
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if self._leading:
            self._leading = set()
            self._notify()
        if connection is not None:
            # Not back to the pool with the locks held: unlocked, and the session ended.
            with contextlib.suppress(Exception):
                await connection.execute(text("SELECT pg_advisory_unlock_all()"))
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()

    async def _take_roles(self) -> None:
        connection = self._connection
        assert connection is not None
        before = set(self._leading)
        for role in self._wanted:
            if role in self._leading:
                continue
            taken = await connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :role)"),
                {"space": self._space + 1, "role": _key(role)},
            )
            if taken.scalar_one():
                self._leading.add(role)
                self._since[role] = utcnow()
                log.info("processes: process %s now leads %s", self.id, role)
        await connection.commit()
        if self._leading != before:
            self._notify()

    async def _release_dead(self) -> None:
        connection = self._connection
        assert connection is not None
        alive = await alive_ids(connection, self._space)
        released = await inbox.release(connection, alive)
        if released:
            log.warning("inbox: %d updates of a stopped process are handled by others", released)
        for renew in self._renewals:
            await renew(connection)
        await connection.commit()

    async def _write(self) -> None:
        async with self.database.engine.begin() as connection:
            await connection.execute(
                update(TABLE)
                .where(TABLE.c.id == self.id)
                .values(
                    heartbeat_at=utcnow(),
                    leads=sorted(self._leading_now()),
                    parts=self._parts_now(),
                )
            )

    def _leading_now(self) -> Iterable[str]:
        return self._leading if self.shared else self._wanted

    def _parts_now(self) -> dict[str, Any]:
        try:
            return self._parts()
        except Exception as error:  # a part that cannot say is reported, not fatal
            return {"presence": {"ok": False, "detail": f"cannot tell: {error}"}}

    def _notify(self) -> None:
        for callback in self._changed:
            try:
                callback()
            except Exception:
                log.exception("processes: a part failed to follow a change of roles")


async def alive_ids(connection: AsyncConnection, space: int) -> set[int]:
    """The ids of the processes whose lock is held (PostgreSQL)."""
    result = await connection.execute(_ALIVE, {"space": space})
    return {int(row[0]) for row in result.all()}


@dataclass(frozen=True)
class ProcessState:
    """One process as `buurtbot health` and the dashboard show it."""

    id: int
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    alive: bool
    leads: list[str] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)


async def overview(database: Database, stale_after: float = 60.0) -> list[ProcessState]:
    """The processes of the deployment, running ones first, each with what it leads.

    Alive on PostgreSQL: its lock is held; on SQLite (one process): not stopped and a
    heartbeat younger than `stale_after` seconds. For `buurtbot health` and the dashboard.
    """
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(TABLE).order_by(TABLE.c.id))).all()
        if database.is_sqlite:
            alive: set[int] | None = None
        else:
            schema = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
            alive = await alive_ids(connection, _key(f"buurtbot:{schema}"))
    now = utcnow()
    states = []
    for row in rows:
        if alive is None:
            living = (
                row.stopped_at is None and (now - row.heartbeat_at).total_seconds() <= stale_after
            )
        else:
            living = row.id in alive and row.stopped_at is None
        states.append(
            ProcessState(
                id=row.id,
                host=row.host,
                pid=row.pid,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
                stopped_at=row.stopped_at,
                alive=living,
                leads=list(row.leads or []) if living else [],
                parts=dict(row.parts or {}),
            )
        )
    states.sort(key=lambda state: (not state.alive, -state.id))
    return states
