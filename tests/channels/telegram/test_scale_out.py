"""Several `buurtbot run` on one PostgreSQL database, in webhook mode behind a proxy.

Real processes, started as an operator does, against the fake Bot API; a small
round-robin proxy in front of them sends each update to the next process in turn, and
to the one after when a process does not answer (as nginx's `proxy_next_upstream`).
Skipped without BUURTBOT_TEST_DATABASE_URL. Slow on a loaded machine: generous,
bounded waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from bot.storage.db import sync_url
from bot.storage.migrate import upgrade
from tests import processes
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser
from tests.processes import free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

REPLY_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
WAIT = 120.0  # seconds for any one step on a loaded machine

# (action, replies it brings): the onboarding, buttons and one typed answer.
ONBOARDING: list[tuple[Callable[[FakeUser], Any], int]] = [
    (lambda u: u.send_command("start"), 1),
    (lambda u: u.press("English"), 3),
    (lambda u: u.press("Yes, I agree"), 2),
    (lambda u: u.press("Kerkelanden"), 2),
    (lambda u: u.send_text("2"), 2),
    (lambda u: u.press("Green spaces and gardens"), 1),
    (lambda u: u.press("Sport and play"), 1),
    (lambda u: u.press("Done"), 3),
]


class Proxy:
    """Round robin over the processes' webhook ports; skips one that does not answer."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.port = free_port()
        self.turn = itertools.count()
        self.sent: dict[int, int] = dict.fromkeys(ports, 0)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Proxy:
        application = web.Application()
        application.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None and self._runner is not None
        await self._session.close()
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host"}}
        for _ in self.ports:
            port = self.ports[next(self.turn) % len(self.ports)]
            try:
                async with self._session.post(
                    f"http://127.0.0.1:{port}{request.path}", data=body, headers=headers
                ) as answer:
                    self.sent[port] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)


class Deployment:
    """`count` processes of `buurtbot run` sharing one schema, and the proxy in front."""

    def __init__(
        self, server: FakeTelegramServer, url: str, tmp_path: Path, count: int, **settings: str
    ):
        self.server = server
        self.settings = settings
        self.url = url
        self.tmp_path = tmp_path
        self.ports = [free_port() for _ in range(count)]
        self.proxy = Proxy(self.ports)
        self.running: list[asyncio.subprocess.Process] = []
        self.logs = [tmp_path / f"process-{n}.log" for n in range(count)]

    def environment(self, n: int, **settings: str) -> dict[str, str]:
        folder = self.tmp_path / f"p{n}"
        folder.mkdir(exist_ok=True)
        return processes.environment(
            self.url,
            folder,
            telegram_token=self.server.token,
            telegram_api_url=self.server.base_url,
            telegram_webhook_url=f"http://127.0.0.1:{self.proxy.port}/telegram",
            telegram_webhook_listen="127.0.0.1",
            telegram_webhook_port=str(self.ports[n]),
            telegram_rate="2",
            dashboard_listen="",
            **settings,
        )

    async def start(self) -> None:
        upgrade(self.url)  # once, before they start (they would each wait for the lock)
        for n in range(len(self.ports)):
            env = self.environment(n, **self.settings)
            self.running.append(await processes.run(env, self.tmp_path, log=self.logs[n]))
        for n in range(len(self.ports)):
            await self.wait_log(n, "listening for its webhook")

    def log(self, n: int) -> str:
        return self.logs[n].read_text(errors="replace") if self.logs[n].exists() else ""

    async def wait_log(self, n: int, line: str, timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while line not in self.log(n):
                if self.running[n].returncode is not None:
                    raise AssertionError(f"process {n} ended:\n{self.log(n)}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        for process in self.running:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 60)
            if process.returncode is None:
                process.kill()
                await process.wait()

    def query(self, sql: str) -> list[Any]:
        engine = create_engine(sync_url(self.url))
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql)).all())
        finally:
            engine.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(deliver_webhooks=True, webhook_retry_delay=0.2) as fake:
        yield fake


async def _deployment(
    server: FakeTelegramServer, database_url: str, tmp_path: Path, count: int, **settings: str
) -> Deployment:
    deployment = Deployment(server, database_url, tmp_path, count, **settings)
    await deployment.proxy.__aenter__()
    try:
        await deployment.start()
    except BaseException:
        await deployment.stop()
        await deployment.proxy.__aexit__()
        raise
    return deployment


async def _onboard(user: FakeUser, first: int = 0, last: int = len(ONBOARDING)) -> list[str]:
    """Walk the onboarding, each step after the replies of the ones before; the texts.

    Replies are counted from the start (a step's edit may come with the next step's).
    """
    server = user.server
    expected = sum(count for _action, count in ONBOARDING[:first])
    for action, count in ONBOARDING[first:last]:
        expected += count
        action(user)
        try:
            await server.wait_for(_count_reaches(server, user.chat_id, expected), WAIT)
        except TimeoutError:
            sent = [(c.method, c.text) for c in _replies(server, user.chat_id)]
            raise AssertionError(f"{user.chat_id}: {expected} replies expected: {sent}") from None
    return [call.text or "" for call in _replies(server, user.chat_id)]


# The rest of the onboarding after the neighbourhood, each action once its question is
# shown: a process killed halfway may make a question come twice (asked again after
# the crash, rather than never), so counting replies would lose step.
REST: list[tuple[str, Callable[[FakeUser], Any]]] = [
    ("Kerkelanden", lambda u: u.press("Kerkelanden")),
    ("18 to 27", lambda u: u.send_text("2")),
    ("Green spaces and gardens", lambda u: u.press("Green spaces and gardens")),
    ("Sport and play", lambda u: u.press("Sport and play")),
    ("Done", lambda u: u.press("Done")),
]


async def _finish(server: FakeTelegramServer, user: FakeUser) -> list[str]:
    """The rest of the onboarding; the texts of the last three replies."""
    for button, action in REST:
        await server.wait_for(_shows(server, user.chat_id, button), WAIT)
        action(user)
    done = "✅ Green spaces and gardens, Sport and play"
    await server.wait_for(
        lambda: any((c.text or "").endswith(done) for c in _replies(server, user.chat_id)), WAIT
    )
    await server.wait_for(_count_reaches(server, user.chat_id, _last_edit(server, user) + 3), WAIT)
    return [c.text or "" for c in _replies(server, user.chat_id)][-3:]


def _last_edit(server: FakeTelegramServer, user: FakeUser) -> int:
    """How many replies there were up to the edit that closes the interests question."""
    replies = _replies(server, user.chat_id)
    done = "✅ Green spaces and gardens, Sport and play"
    return max(n for n, c in enumerate(replies) if (c.text or "").endswith(done))


def _shows(server: FakeTelegramServer, chat_id: int, button: str) -> Callable[[], bool]:
    """Whether the newest message with buttons in the chat has this button."""

    def shown() -> bool:
        try:
            message = server._find_keyboard_message(chat_id, None)
        except LookupError:
            return False
        rows = message["reply_markup"]["inline_keyboard"]
        return any(b.get("text") == button for row in rows for b in row)

    return shown


def _count_reaches(server: FakeTelegramServer, chat_id: int, expected: int) -> Callable[[], bool]:
    return lambda: len(_replies(server, chat_id)) >= expected


def _replies(server: FakeTelegramServer, chat_id: int) -> list[Any]:
    return [
        call
        for call in server.calls
        if call.method in REPLY_METHODS and call.chat_id == chat_id and call.ok
    ]


def _sends(server: FakeTelegramServer, chat_id: int) -> list[str]:
    return [call.text or "" for call in server.sent_messages(chat_id) if call.ok]


async def test_two_processes_share_the_updates_in_each_persons_order(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    deployment = await _deployment(server, database_url, tmp_path, 2)
    try:
        people = [server.user(20_000 + n, f"P{n}", language_code="en") for n in range(4)]
        walks = await asyncio.gather(*(_onboard(person) for person in people))
        # Each process got updates from the proxy, and each handled some.
        assert all(deployment.proxy.sent[port] > 0 for port in deployment.ports)
        # In order: everybody pressed the same, so everybody got the same replies in
        # the same order; an update handled before the one before it would change that.
        assert "Which language" in walks[0][0]
        assert len(walks[0]) == sum(count for _action, count in ONBOARDING)
        assert all(texts == walks[0] for texts in walks), walks
        # None lost, none twice: every update has one receipt, the inbox is empty.
        receipts = deployment.query("SELECT count(*) FROM inbound_receipts")[0][0]
        assert receipts == len(people) * len(ONBOARDING)
        # The last reply can reach the person a moment before its update leaves the inbox
        # (the row goes once the turn is recorded): wait for that, a bounded while.
        for _ in range(50):
            if deployment.query("SELECT count(*) FROM inbox")[0][0] == 0:
                break
            await asyncio.sleep(0.2)
        assert deployment.query("SELECT count(*) FROM inbox")[0][0] == 0
        # The jobs run in one process: exactly one leads them.
        leaders = deployment.query(
            "SELECT id, leads FROM processes WHERE stopped_at IS NULL ORDER BY id"
        )
        assert len(leaders) == 2
        assert sum("jobs" in (leads or []) for _id, leads in leaders) == 1, leaders

        # A broadcast to the four goes out at the deployment's rate (2 a second), not
        # at 2 a second from each process.
        began = len(server.calls)
        activity = await _command(
            deployment,
            "activities",
            "add",
            "--title",
            "Buurtbarbecue",
            "--starts",
            "2030-06-01T15:00",
            "--place",
            "Het Plein",
        )
        await _command(deployment, "broadcast", "--activity", activity.splitlines()[-1].strip())
        await server.wait_for(
            lambda: (
                sum(1 for c in server.calls[began:] if c.method == "sendMessage" and c.ok)
                >= len(people)
            ),
            timeout=WAIT,
        )
        times = sorted(c.time for c in server.calls[began:] if c.method == "sendMessage" and c.ok)
        _assert_rate(times, 2)
    finally:
        await deployment.stop()
        await deployment.proxy.__aexit__()
    logs = [deployment.log(n) for n in range(2)]
    assert all("Traceback" not in log for log in logs), "\n".join(logs)
    assert sum(log.count("now leads jobs") for log in logs) == 1, "\n".join(logs)


async def _command(deployment: Deployment, *arguments: str) -> str:
    """A `buurtbot` command with the first process's settings; its output."""
    log = deployment.tmp_path / "command.log"
    log.unlink(missing_ok=True)
    command = await processes.run(
        deployment.environment(0), deployment.tmp_path, *arguments, log=log
    )
    await asyncio.wait_for(command.wait(), WAIT)
    output = log.read_text()
    assert command.returncode == 0, output
    return output


def _assert_rate(times: list[float], rate: float) -> None:
    """At most `rate` in any second, give or take one message of network jitter."""
    assert len(times) >= 2
    average = (len(times) - 1) / (times[-1] - times[0])
    assert average <= rate * 1.1, (average, times)
    most = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert most <= rate + 1, (most, times)


async def test_kill_9_of_one_of_three_loses_no_update_and_handles_none_twice(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    deployment = await _deployment(server, database_url, tmp_path, 3)
    try:
        people = [server.user(30_000 + n, f"Q{n}", language_code="en") for n in range(6)]
        # Halfway through everybody's onboarding, one process is killed.
        await asyncio.gather(*(_onboard(person, 0, 3) for person in people))
        victim = deployment.running[1]
        (victim_id,) = deployment.query(f"SELECT id FROM processes WHERE pid = {victim.pid}")[0]
        # Replies hang a while, so updates are being handled when the victim dies: it
        # holds claims, which the others take over.
        server.delay("editMessageText", 8)
        pending = [asyncio.create_task(_finish(server, person)) for person in people]
        async with asyncio.timeout(WAIT):
            while not deployment.query(
                f"SELECT count(*) FROM inbox WHERE claimed_by = {victim_id}"
            )[0][0]:
                await asyncio.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        server.delay("editMessageText", 0)
        walks = await asyncio.gather(*pending)
        assert all(texts == walks[0] for texts in walks), walks
        receipts = deployment.query(
            "SELECT key, count(*) FROM inbound_receipts GROUP BY key HAVING count(*) > 1"
        )
        assert receipts == []
        total = deployment.query("SELECT count(*) FROM inbound_receipts")[0][0]
        assert total == len(people) * len(ONBOARDING)
        assert deployment.query("SELECT count(*) FROM inbox")[0][0] == 0
        # Each person's answers were stored once each: the onboarding's, complete.
        answers = deployment.query(
            "SELECT participant_id, count(*) FROM answers GROUP BY participant_id"
        )
        assert len(answers) == len(people)
        assert len({count for _id, count in answers}) == 1, answers
    finally:
        await deployment.stop()
        await deployment.proxy.__aexit__()
    logs = [deployment.log(n) for n in (0, 2)]
    assert all("Traceback" not in log for log in logs), "\n".join(logs)
    assert any("updates of a stopped process are handled by others" in log for log in logs)


async def test_polling_passes_to_another_process_when_the_poller_dies(
    database_url: str, tmp_path: Path
) -> None:
    """Without a webhook, one process polls; kill -9 it and another polls on."""
    async with FakeTelegramServer() as server:
        upgrade(database_url)
        running, logs = [], [tmp_path / f"polling-{n}.log" for n in range(2)]

        def environment(n: int) -> dict[str, str]:
            folder = tmp_path / f"q{n}"
            folder.mkdir(exist_ok=True)
            return processes.environment(
                database_url,
                folder,
                telegram_token=server.token,
                telegram_api_url=server.base_url,
                dashboard_listen="",
            )

        async def health(n: int) -> str:
            log = tmp_path / "health.log"
            log.unlink(missing_ok=True)
            checked = await processes.run(environment(n), tmp_path, "health", log=log)
            await asyncio.wait_for(checked.wait(), WAIT)
            return log.read_text()

        try:
            for n in range(2):
                running.append(await processes.run(environment(n), tmp_path, log=logs[n]))
            async with asyncio.timeout(WAIT):
                while not all("is polling" in log.read_text() for log in logs if log.exists()):
                    await asyncio.sleep(0.2)
            ada = server.user(40_001, "Ada", language_code="en")
            ada.send_command("start")
            await ada.wait_reply(1, timeout=WAIT)
            said = await health(0)
            assert "processes: 2 running" in said, said
            assert said.count("telegram-updates;") == 1, said
            poller = next(
                n for n in range(2) if "now leads telegram-updates" in logs[n].read_text()
            )
            running[poller].send_signal(signal.SIGKILL)
            await running[poller].wait()
            other = 1 - poller
            async with asyncio.timeout(WAIT):
                while "now leads telegram-updates" not in logs[other].read_text():
                    await asyncio.sleep(0.2)
            ada.press("English")
            await ada.wait_reply(3, timeout=WAIT)
            said = await health(other)
            assert "processes: 1 running" in said and "leads jobs, telegram-updates" in said, said
            assert "gone without stopping" in said, said
        finally:
            for process in running:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 60)


JOB_RUN = re.compile(r"job (\S+): due (\S+), run by process (\d+)")
JOBS = {"conversation-reminders", "conversation-expiry", "retention-purge", "activity-feedback"}


def _job_runs(deployment: Deployment) -> list[tuple[str, str, int, int]]:
    """Every periodic job run the processes logged: (job, due time, process id, log)."""
    return [
        (job, due, int(process), n)
        for n in range(len(deployment.logs))
        for job, due, process in JOB_RUN.findall(deployment.log(n))
    ]


async def test_periodic_jobs_run_once_a_due_time_and_on_after_their_leader_is_killed(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    """Three processes, every job due every second: one process runs each due time."""
    deployment = await _deployment(server, database_url, tmp_path, 3, jobs_every="1")

    async def runs_of_each_job(count: int, among: Callable[[int], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not all(
                sum(1 for j, _due, _p, n in _job_runs(deployment) if j == job and among(n)) >= count
                for job in JOBS
            ):
                await asyncio.sleep(0.2)

    try:
        await runs_of_each_job(3, lambda _n: True)
        runs = _job_runs(deployment)
        # Only the leader of the jobs ran them.
        (leader,) = {n for _j, _d, _p, n in runs}
        victim = deployment.running[leader]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        before = len(runs)  # the log of a killed process may end mid-line: reread below
        # Another process takes the jobs over (within a heartbeat or two) and runs them.
        await runs_of_each_job(3, lambda n: n != leader)
    finally:
        await deployment.stop()
        await deployment.proxy.__aexit__()
    runs = _job_runs(deployment)
    assert len(runs) >= before
    # Once a due time, across all processes: before, during and after the take-over.
    due_times = [(job, due) for job, due, _p, _n in runs]
    twice = {run for run in due_times if due_times.count(run) > 1}
    assert not twice, [run for run in runs if (run[0], run[1]) in twice]
    # The dead leader's runs and the next leader's, in that order; nobody else ran any.
    takers = {n for _j, _d, _p, n in runs if n != leader}
    assert len(takers) == 1, takers
    for job in JOBS:
        last_dead = max(d for j, d, _p, n in runs if j == job and n == leader)
        first_next = min(d for j, d, _p, n in runs if j == job and n != leader)
        assert first_next > last_dead, (job, last_dead, first_next)
    logs = [deployment.log(n) for n in range(3) if n != leader]
    assert all("Traceback" not in log for log in logs), "\n".join(logs)
