"""Telegram throughput: N people through onboarding, beside a bare PTB echo bot.

    python benchmarks/telegram_throughput.py                 # 500 people
    python benchmarks/telegram_throughput.py --people 100 --bot buurtbot

The fake Bot API server (tests/fakes/telegram_api.py) and the simulated people run in
this process; each bot runs in a process of its own, talking to the fake over real
HTTP, as in production (the bot and Telegram are different machines). Each person waits
for the bot's replies to one action before the next one (no think time), all people at
once, so the bot is saturated: updates/s is its throughput, and the latency of a step
(the update queued -> the last reply of that step arrived at the fake) includes the
queueing of a saturated bot.

* buurtbot: the real app on SQLite in a temporary folder, the Telegram channel as
  `buurtbot run` starts it: /start, the language, consent, neighbourhood, age (typed),
  two interests and done: 8 updates and 15 replies a person.
* echo: PTB's echo bot (`MessageHandler` -> `reply_text`), 8 texts a person, each
  echoed once; PTB's defaults (updates one at a time), and with `--echo-concurrent` also
  with `concurrent_updates(True)`.

The ratio is buurtbot's updates/s over the faster echo bot's: the framework overhead we
add (a database transaction, the flow engine, and 2 Bot API calls an update instead of 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import Call, FakeTelegramServer, FakeUser  # noqa: E402

COUNTED = ("sendMessage", "editMessageText", "editMessageReplyMarkup")

# (action, replies it brings): the onboarding with buttons and one typed answer.
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
ECHO: list[tuple[Callable[[FakeUser], Any], int]] = [
    (lambda u, n=n: u.send_text(f"hello {n}"), 1) for n in range(len(ONBOARDING))
]


# ---- the bots, each in its own process ------------------------------------------------


async def serve_buurtbot(url: str, token: str, folder: Path, slots: int | None) -> None:
    from bot import collector
    from bot.app import build
    from bot.channels.telegram import start
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{folder}/buurtbot.db",
        telegram_token=token,
        telegram_api_url=url,
        data_dir=folder,
        secret_key="benchmark",
        deployment_file=ROOT / "buurtbot.yaml",
        conversations_dir=ROOT / "conversations",
        quiet_hours="",
    )
    app = build(settings)
    channel = await start(app, poll_timeout=10, service_slots=slots)
    collector.settle()  # as `buurtbot run` does once started
    await _until_stopped()
    await channel.stop()
    await app.close()


async def serve_echo(url: str, token: str, concurrent: bool, aiohttp: bool) -> None:
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    builder = Application.builder().token(token).base_url(url).concurrent_updates(concurrent)
    if aiohttp:  # the same HTTP client as Buurtbot's channel
        from bot.channels.telegram.request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        await _until_stopped()
        await application.updater.stop()
        await application.stop()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready {_cpu():.3f}", flush=True)
    await stop.wait()
    print(f"stopping {_cpu():.3f}", flush=True)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve(kind: str, url: str, token: str, slots: int | None = None) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        if kind == "buurtbot":
            asyncio.run(serve_buurtbot(url, token, Path(folder), slots))
        else:
            asyncio.run(
                serve_echo(url, token, concurrent="concurrent" in kind, aiohttp="aiohttp" in kind)
            )
    if os.environ.get("BENCH_PROFILE"):
        profiler.disable()
        profiler.dump_stats(os.environ["BENCH_PROFILE"])


# ---- the people and the measurements -------------------------------------------------


@dataclass
class Result:
    name: str
    people: int
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    errors: int = 0
    violations: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:<16} {self.people:>6} {self.updates:>8} {self.seconds:>7.2f}s "
            f"{self.rate:>9.1f} {self.percentile(50) * 1000:>8.0f} "
            f"{self.percentile(99) * 1000:>8.0f} {self.bot_cpu:>7.1f}s {self.driver_cpu:>7.1f}s"
        )


class Replies:
    """Counts each chat's replies as the fake answers them, and wakes who waits for them."""

    def __init__(self, server: FakeTelegramServer):
        self.count: dict[int, int] = defaultdict(int)
        self.arrived: dict[int, float] = {}
        self.waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}
        for method in COUNTED:
            name, original = server._methods[method.lower()]
            server.register_method(name, self._wrap(original))

    def _wrap(self, original: Callable[[Call], Any]) -> Callable[[Call], Awaitable[Any]]:
        async def counted(call: Call) -> Any:
            result = original(call)
            if asyncio.iscoroutine(result):
                result = await result
            chat_id = call.params.get("chat_id")
            if isinstance(chat_id, int):
                self.count[chat_id] += 1
                self.arrived[chat_id] = time.monotonic()
                waiting = self.waiters.get(chat_id)
                if waiting and self.count[chat_id] >= waiting[0] and not waiting[1].done():
                    waiting[1].set_result(None)
            return result

        return counted

    async def wait(self, chat_id: int, total: int, timeout: float) -> None:
        if self.count[chat_id] >= total:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiters[chat_id] = (total, future)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self.waiters.pop(chat_id, None)


async def person(
    user: FakeUser,
    script: list[tuple[Callable[[FakeUser], Any], int]],
    replies: Replies,
    result: Result,
    timeout: float,
) -> None:
    expected = 0
    for action, count in script:
        expected += count
        began = time.monotonic()
        action(user)
        try:
            await replies.wait(user.chat_id, expected, timeout)
        except TimeoutError:
            result.errors += 1
            return
        result.latencies.append(replies.arrived[user.chat_id] - began)
        result.updates += 1


async def run(kind: str, people: int, timeout: float, slots: int | None = None) -> Result:
    script = ONBOARDING if kind == "buurtbot" else ECHO
    result = Result(kind, people)
    async with FakeTelegramServer() as server:
        replies = Replies(server)
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--url",
            server.base_url,
            "--token",
            server.token,
            *(["--service-slots", str(slots)] if slots else []),
            stdout=subprocess.PIPE,
        )
        assert bot.stdout is not None
        line = (await asyncio.wait_for(bot.stdout.readline(), 60)).decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"{kind} did not start: {line!r}")
        ready_cpu = float(line.split()[1])
        spy = None
        if os.environ.get("BENCH_PYSPY"):  # a py-spy binary: profile the bot while it runs
            spy = await asyncio.create_subprocess_exec(
                os.environ["BENCH_PYSPY"],
                "record",
                "--pid",
                str(bot.pid),
                "--threads",
                "-f",
                "raw",
                "-r",
                "200",
                "-o",
                f"{kind}.pyspy.raw",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        users = [server.user(10_000 + n, f"P{n}", language_code="en") for n in range(people)]
        await asyncio.sleep(0.5)  # the bot's start-up calls (commands menu) are done
        # The bot's CPU is counted from here, not from "ready": the start-up calls (the
        # command menu in seven languages, with their catalogs) are not the updates'.
        walk_cpu = _cpu_of(bot.pid)
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.monotonic()
        await asyncio.gather(*(person(u, script, replies, result, timeout) for u in users))
        result.seconds = time.monotonic() - began
        walked_cpu = _cpu_of(bot.pid)
        after = resource.getrusage(resource.RUSAGE_SELF)
        result.driver_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        result.violations = len(server.violations)
        for violation in server.violations[:5]:
            print(f"  violation: {violation}", file=sys.stderr)
        bot.send_signal(signal.SIGTERM)
        out, _ = await bot.communicate()
        if spy is not None:
            await spy.wait()
        if walk_cpu is not None and walked_cpu is not None:
            result.bot_cpu = walked_cpu - walk_cpu
        else:  # no /proc: from "ready" to "stopping", start-up calls included
            with contextlib.suppress(ValueError, IndexError):
                stopping = out.decode().split("stopping", 1)[1].split()[0]
                result.bot_cpu = float(stopping) - ready_cpu
    return result


def _cpu_of(pid: int) -> float | None:
    """CPU seconds a process has used so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(arguments: argparse.Namespace) -> None:
    kinds = ["buurtbot", "echo"] if arguments.bot == "all" else [arguments.bot]
    if arguments.echo_variants and "echo" in kinds:
        kinds += ["echo-concurrent", "echo-aiohttp"]
    load = os.getloadavg()
    print(
        f"{arguments.people} people, {os.cpu_count()} CPUs, "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"{'bot':<16} {'people':>6} {'updates':>8} {'time':>8} {'updates/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'bot CPU':>8} {'driver':>8}"
    )
    results = []
    for kind in kinds:
        result = await run(kind, arguments.people, arguments.timeout, arguments.service_slots)
        results.append(result)
        print(result.line(), flush=True)
        if result.errors or result.violations:
            print(f"  {result.errors} people timed out, {result.violations} violations")
    ours = next((r for r in results if r.name == "buurtbot"), None)
    echoes = [r for r in results if r.name.startswith("echo")]
    if ours and echoes:
        best = max(echoes, key=lambda r: r.rate)
        print(f"buurtbot / {best.name}: {ours.rate / best.rate:.0%} of the echo bot's updates/s")
        if ours.updates:
            cpu = ours.bot_cpu / ours.updates * 1000
            echo_cpu = best.bot_cpu / best.updates * 1000 if best.updates else 0
            print(f"bot CPU per update: buurtbot {cpu:.2f} ms, {best.name} {echo_cpu:.2f} ms")
    if any(r.errors for r in results):
        sys.exit(1)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--bot", choices=["all", "buurtbot", "echo"], default="all")
    parser.add_argument(
        "--echo-variants",
        action="store_true",
        help="also measure the echo bot with concurrent_updates(True), and with aiohttp",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a person waits for one step's replies"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument(
        "--service-slots",
        type=int,
        default=None,
        help="conversation-service calls at once in the bot (default: the channel's own)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.serve:
        serve(args.serve, args.url, args.token, args.service_slots)
    else:
        asyncio.run(main(args))
