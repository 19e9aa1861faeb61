"""Counts kept for the results pages, so that a first view does not wait for every
answer of a flow to be read again.

A count (`bot.reports.counting.count`) depends on the flow, the period and the age
group asked for, not on who looks: the neighbourhoods a viewer may see are taken from
it later (`bot.reports.aggregate`). So one count serves every coordinator and worker.
A count is kept with the data's `mark` (a few numbers read in milliseconds that change
whenever the count would) and served again only while the mark is the same: the page
always shows the numbers of now, as `buurtbot report` on the same database would.

While someone uses the dashboard, what may be asked for next is counted ahead, in the
background: each results page viewed in the last hours, and each flow's page for the
whole town, per age group, and this month against last. A round recounts only what
changed, busiest flow first, and the next round waits ten times as long as the last
took (at least `PAUSE` seconds), so keeping counts takes at most a tenth of the time.

Counting runs in threads with their own connections, never on the event loop: the bot
goes on answering people while a page is counted. A page someone waits for is counted
by its statements side by side, each on a connection of its own (about 1.7 times as fast
on two cores); that is the count of one moment when the mark is the same before and
after them, and is counted again in one go when it is not. Counting ahead runs one
statement at a time, so as to leave the rest of the machine to the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.deployment import Deployment
from bot.flows.labels import Labels
from bot.flows.library import FlowLibrary
from bot.i18n.translator import Translator
from bot.reports.aggregate import age_groups, aggregate
from bot.reports.counting import FlowCount, Statements, count, mark, prepare
from bot.reports.model import Scope
from bot.reports.overview import answers_per_flow
from bot.reports.periods import Period, parse_compare
from bot.storage.db import Database

log = logging.getLogger(__name__)

PAUSE = 30.0
"""Seconds between two rounds of counting ahead, at the least."""
SHARE = 10
"""A round waits this many times as long as the last one took."""
IN_USE = 3600.0
"""Counted ahead while the dashboard was used this many seconds ago (a session's idle
limit)."""
VIEWED = 8 * 3600.0
"""A page viewed is counted ahead this long after (a session's whole length)."""
MAX_KEPT = 256


@dataclass(frozen=True)
class Key:
    """What a count depends on."""

    flow: str
    period: Period
    age_group: str | None = None
    funnels_only: bool = False

    def scope(self, readable: frozenset[str]) -> Scope:
        return Scope(
            neighbourhoods=None,
            flow=self.flow,
            period=self.period,
            free_text=frozenset() if self.funnels_only else readable,
            age_group=self.age_group,
        )


@dataclass
class Kept:
    mark: tuple[Any, ...]
    counts: dict[str, FlowCount]
    viewed: float


class Counted:
    """The counts of one dashboard, and the background task that keeps them."""

    def __init__(
        self,
        database: Database,
        library: FlowLibrary,
        deployment: Deployment,
        translator: Translator,
        timezone: str,
    ):
        self.database = database
        self.library, self.deployment = library, deployment
        self.translator, self.timezone = translator, timezone
        self.labels = Labels(library, deployment, translator)
        self.zone = ZoneInfo(timezone)
        # Every neighbourhood's free texts are counted; a viewer's page shows its own.
        self.readable = frozenset(n.key for n in deployment.neighbourhoods)
        self.kept: dict[Key, Kept] = {}
        self.used = float("-inf")
        self.rounds = 0
        self._running: dict[Key, asyncio.Future[Kept]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # -- serving ------------------------------------------------------------------

    def touch(self) -> None:
        """Someone uses the dashboard: count ahead (at once, if nobody did lately)."""
        self.used = time.monotonic()
        self._wake.set()

    async def counts(self, key: Key) -> tuple[dict[str, FlowCount], tuple[Any, ...]]:
        """The count for `key` as the data is now, and its mark."""
        self.touch()
        kept = self.kept.get(key)
        if kept is not None:
            now = await self._in_thread(lambda c: mark(c, key.scope(self.readable)))
            if now == kept.mark:
                kept.viewed = time.monotonic()
                return kept.counts, kept.mark
        kept = await self._count(key)
        kept.viewed = time.monotonic()
        return kept.counts, kept.mark

    def counter(
        self, found: dict[Key, dict[str, FlowCount]]
    ) -> Callable[[Scope, bool], dict[str, FlowCount]]:
        """`aggregate`'s counter over counts fetched already (`counts`)."""

        def counter(scope: Scope, funnels_only: bool) -> dict[str, FlowCount]:
            assert scope.flow is not None
            return found[Key(scope.flow, scope.period, scope.age_group, funnels_only)]

        return counter

    async def _count(self, key: Key, waited_for: bool = True) -> Kept:
        """Count `key` (once, however many ask at the same time) and keep it.
        `waited_for`: someone waits for it, so its statements run side by side."""
        running = self._running.get(key)
        if running is None:
            if waited_for:
                running = asyncio.ensure_future(self._alongside(key))
            else:
                running = asyncio.ensure_future(self._in_thread(lambda c: self._counted(c, key)))
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        kept = await asyncio.shield(running)
        old = self.kept.get(key)
        if old is not None:
            kept.viewed = old.viewed
        self.kept[key] = kept
        if len(self.kept) > MAX_KEPT:
            oldest = min(self.kept, key=lambda k: self.kept[k].viewed)
            del self.kept[oldest]
        return kept

    def _counted(self, connection: Connection, key: Key) -> Kept:
        scope = key.scope(self.readable)
        # The mark first: what changes while counting makes it old, never the count.
        found = mark(connection, scope)
        counts = count(connection, scope, self.labels, self.zone, only_outcomes=key.funnels_only)
        return Kept(found, counts, float("-inf"))

    async def _alongside(self, key: Key) -> Kept:
        """Count `key` with its statements side by side, each on its own connection.

        Statements on several connections are not one snapshot, and the protection
        relies on their numbers adding up. Nothing written between a mark before them
        and one after (the same mark) means every statement read the same data."""
        scope = key.scope(self.readable)
        before = await self._in_thread(lambda c: mark(c, scope))
        statements = Statements(self.database.engine.dialect.name, scope, self.labels, self.zone)
        written = statements.texts(key.funnels_only)
        *parts, texts = await asyncio.gather(
            *(self._in_thread(_rows(s)) for s in statements.parts(key.funnels_only)),
            self._in_thread(_rows(written)) if written is not None else _nothing(),
        )
        after = await self._in_thread(lambda c: mark(c, scope))
        if after != before:
            return await self._in_thread(lambda c: self._counted(c, key))
        # Folding thousands of rows is Python's work: not on the loop either.
        rows = [row for found in parts for row in found]
        counts = await asyncio.to_thread(statements.fold, rows, texts)
        return Kept(before, counts, float("-inf"))

    async def _in_thread(self, work: Callable[[Connection], Any]) -> Any:
        return await self.database.in_thread(work)

    # -- counting ahead -----------------------------------------------------------

    def wanted(self, busiest: list[str]) -> list[Key]:
        """What to count ahead, in order: each flow's whole-town page (busiest first),
        the pages viewed lately, then each flow per age group and this month against
        last."""
        now = time.monotonic()
        whole = [Key(flow, Period(None, None, "")) for flow in busiest]
        viewed = [k for k, kept in self.kept.items() if now - kept.viewed < VIEWED]
        ages = [code for code, _ in age_groups(self.labels)]
        months = parse_compare("this-month", self.zone)
        more = [
            *(Key(flow, Period(None, None, ""), age) for flow in busiest for age in ages),
            *(Key(flow, period, None, True) for flow in busiest for period in months),
        ]
        return list(dict.fromkeys([*whole, *viewed, *more]))

    async def round(self, flows: list[str]) -> None:
        """Count again what is wanted and changed."""
        per_flow = await self._in_thread(lambda c: answers_per_flow(c, None))
        busiest = sorted(flows, key=lambda f: -per_flow.get(f, 0))
        marks: dict[tuple[str, bool], tuple[Any, ...]] = {}
        for key in self.wanted(busiest):
            kept = self.kept.get(key)
            if kept is not None:
                which = (key.flow, key.age_group is not None)
                if which not in marks:
                    scope = key.scope(self.readable)
                    marks[which] = await self._in_thread(lambda c, s=scope: mark(c, s))
                if marks[which] == kept.mark:
                    continue
            await self._count(key, waited_for=False)
            await asyncio.to_thread(self._protect, key)

    def _protect(self, key: Key) -> None:
        """Make the tables of a page once, so that the protection of its numbers is
        decided before anyone looks (`protection.suppress` keeps it by value, for every
        viewer and language). Funnels are made with their pair: this month against
        last, of the flow's page."""
        page, compare = key, None
        if key.funnels_only:
            page = Key(key.flow, Period(None, None, ""), key.age_group)
            compare = parse_compare("this-month", self.zone)
            if key.period not in compare:
                return
        wanted = [page, *(Key(key.flow, p, key.age_group, True) for p in compare or ())]
        if not all(k in self.kept for k in wanted):
            return
        aggregate(
            None,
            library=self.library,
            deployment=self.deployment,
            translator=self.translator,
            scope=page.scope(self.readable),
            timezone=self.timezone,
            compare=compare,
            sections=False,
            counter=self.counter({k: self.kept[k].counts for k in wanted}),
        )

    async def keep(self, flows: Callable[[], list[str]]) -> None:
        """Count ahead while the dashboard is in use, until cancelled."""
        while True:
            if time.monotonic() - self.used > IN_USE:
                self._wake.clear()
                await self._wake.wait()  # until someone uses the dashboard again
                continue
            began = time.monotonic()
            try:
                await self.round(flows())
            except Exception:
                log.exception("counting the results ahead failed; trying again later")
            self.rounds += 1
            await asyncio.sleep(max(PAUSE, SHARE * (time.monotonic() - began)))

    def start(self, flows: Callable[[], list[str]]) -> None:
        self._task = asyncio.get_running_loop().create_task(self.keep(flows))

    async def close(self) -> None:
        """Stop counting ahead (a count in a thread ends with the database's `close`)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _rows(statement: Any) -> Callable[[Connection], list[Any]]:
    """A statement of a count, to run on a connection of its own."""

    def run(connection: Connection) -> list[Any]:
        prepare(connection)
        return [tuple(row) for row in connection.execute(statement)]

    return run


async def _nothing() -> list[Any]:
    return []
