"""Broadcast benchmark: the outbox against the fake Telegram Bot API over real HTTP.

    python benchmarks/broadcast.py                 # the four runs below, one process each
    python benchmarks/broadcast.py --people 10000 --rate 1000 --sender http
    python benchmarks/broadcast.py --people 10000 --rate 1000 --sender telegram
    python benchmarks/broadcast.py --people 10000 --rate 1000 --sender null
    python benchmarks/broadcast.py --people 1000 --rate 30 --sender telegram

Each run: a fresh SQLite database (or `--database-url`) with N consenting participants
and one broadcast row each; the fake Bot API server (`tests/fakes/telegram_api.py`) in
its own process with its flood limit at `--rate` messages a sliding second (and Telegram's
per-chat limit); the bot's rate (`BUURTBOT_TELEGRAM_RATE`) set to the same number; one
dispatcher pass sends the whole broadcast. Printed: the achieved rate as a fraction of the
limit (from the first to the last message the server accepted), the 429 answers,
duplicates and losses (counted by the server per chat, and checked in the outbox), and
the dispatcher process's peak memory.

Senders: `telegram` is the Telegram channel's own `TelegramSender` (its `BotApi` over the
bot's aiohttp request, as `buurtbot run` sends); `http` is a minimal aiohttp client calling
`sendMessage`; `null` calls no platform at all and shows what the outbox, its database
and the pacing reach alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "123456789:AAFakeTokenForBuurtbotTests_0123456789"


# ---- the fake server, in its own process -------------------------------------------------


async def serve(rate: int) -> None:
    from tests.fakes.telegram_api import FakeTelegramServer

    server = FakeTelegramServer(token=TOKEN, global_rate=rate, per_chat_rate=1.0)

    def stats(call: Any) -> dict[str, Any]:
        per_chat: dict[int, int] = {}
        times: list[float] = []
        for made in server.calls:
            if made.method == "sendMessage" and made.status == 200:
                chat = int(made.params["chat_id"])
                per_chat[chat] = per_chat.get(chat, 0) + 1
                times.append(made.time)
        return {
            "accepted": sum(per_chat.values()),
            "chats": len(per_chat),
            "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
            "count_429": server.count_429,
            "first": min(times, default=0.0),
            "last": max(times, default=0.0),
            "violations": [v for v in server.violations if "Too Many" not in v][:5],
            "cpu_seconds": time.process_time(),
        }

    server.register_method("benchStats", stats)
    async with server:
        print(server.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# ---- senders -------------------------------------------------------------------------------


class HttpSender:
    """`sendMessage` over aiohttp: the least a channel can cost."""

    channel = "telegram"
    per_chat_interval = 1.0

    def __init__(self, base_url: str, rate: float):
        import aiohttp

        self.rate = rate
        self.url = f"{base_url}{TOKEN}/sendMessage"
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def deliver(self, user_id: str, reply: Any) -> Any:
        from bot.delivery.sender import Delivery, Status

        text = "\n\n".join(m.text for m in reply.messages)
        try:
            async with self.session.post(
                self.url, json={"chat_id": int(user_id), "text": text}
            ) as response:
                body = await response.json()
        except Exception as error:
            return Delivery(Status.RETRY, error=repr(error))
        if response.status == 200:
            return Delivery(Status.SENT)
        error = str(body.get("description", response.status))
        if response.status == 429:
            retry = (body.get("parameters") or {}).get("retry_after", 1)
            return Delivery(Status.RETRY, retry_after=float(retry), error=error)
        if response.status == 403:
            return Delivery(Status.UNREACHABLE, error=error)
        if response.status >= 500:
            return Delivery(Status.RETRY, error=error)
        return Delivery(Status.FAILED, error=error)

    async def close(self) -> None:
        await self.session.close()


class NullSender:
    """No platform at all: what the outbox, the database and the pacing cost alone."""

    channel = "telegram"
    per_chat_interval = 1.0

    def __init__(self, rate: float):
        self.rate = rate
        self.times: list[float] = []
        self.per_chat: dict[str, int] = {}
        self.cpu_seconds = 0.0

    async def deliver(self, user_id: str, reply: Any) -> Any:
        from bot.delivery.sender import Delivery, Status

        self.times.append(time.monotonic())
        self.per_chat[user_id] = self.per_chat.get(user_id, 0) + 1
        return Delivery(Status.SENT)

    def stats(self) -> dict[str, Any]:
        return {
            "accepted": len(self.times),
            "chats": len(self.per_chat),
            "duplicates": sum(n - 1 for n in self.per_chat.values() if n > 1),
            "count_429": 0,
            "first": min(self.times, default=0.0),
            "last": max(self.times, default=0.0),
            "violations": [],
            "cpu_seconds": 0.0,
        }

    async def close(self) -> None:
        pass


async def telegram_sender(app: Any) -> tuple[Any, Any]:
    from bot.channels.telegram.application import builder
    from bot.channels.telegram.callbacks import CallbackSigner
    from bot.channels.telegram.sender import ReplyWriter, TelegramSender

    application = builder(app.settings).build()
    bot = application.bot
    await bot.initialize()
    sender = TelegramSender(
        ReplyWriter(bot, CallbackSigner(app.settings.secret)),
        app.service,
        app.settings.telegram_rate,
    )
    return sender, bot.shutdown


# ---- one run --------------------------------------------------------------------------------


async def seed(app: Any, people: int) -> None:
    from sqlalchemy import insert

    from bot import outbox
    from bot.storage.models import Participant, utcnow

    now = utcnow()
    async with app.database.transaction() as session:
        await session.execute(
            insert(Participant),
            [
                {
                    "channel": "telegram",
                    "channel_user_id": str(100_000 + n),
                    "language": "nl",
                    "role": "resident",
                    "consented_at": now,
                    "created_at": now,
                    "last_seen_at": now,
                }
                for n in range(people)
            ],
        )
        ids = (await session.execute(Participant.__table__.select())).scalars().all()
        items = [
            outbox.Item(
                pid,
                "broadcast",
                outbox.text(
                    {
                        "nl": "Zaterdag barbecue op het Bolwerksplein! Kom je ook?",
                        "en": "Barbecue on Saturday at the Bolwerksplein! Are you coming?",
                    }
                ),
                batch_id="bench",
                channel="telegram",
            )
            for pid in ids
        ]
        await outbox.enqueue_many(session, items)


async def server_stats(base_url: str) -> dict[str, Any]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}{TOKEN}/benchStats") as response,
    ):
        return (await response.json())["result"]


async def run(people: int, rate: int, sender_kind: str, database_url: str | None) -> dict:
    from bot import outbox
    from bot.app import build
    from bot.delivery.dispatcher import Dispatcher
    from bot.settings import Settings

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    base_url = server.stdout.readline().strip()
    folder = Path(tempfile.mkdtemp(prefix="buurtbot-bench-"))
    url = database_url or f"sqlite:///{folder}/bench.db"
    settings = Settings(
        _env_file=None,
        database_url=url,
        data_dir=folder,
        secret_key="bench",
        deployment_file=ROOT / "buurtbot.yaml",
        conversations_dir=ROOT / "conversations",
        quiet_hours="",
        telegram_token=TOKEN,
        telegram_api_url=base_url,
        telegram_rate=rate,
    )
    app = build(settings)
    close_sender = None
    try:
        await seed(app, people)
        if sender_kind == "null":
            null = NullSender(rate)
            sender, close_sender = null, null.close
        elif sender_kind == "telegram":
            sender, close_sender = await telegram_sender(app)
        else:
            http = HttpSender(base_url, rate)
            sender, close_sender = http, http.close
        dispatcher = Dispatcher(app, [sender])
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats_of = sender.stats if isinstance(sender, NullSender) else None
        server_cpu_before = (await server_stats(base_url))["cpu_seconds"]
        cpu_before = time.process_time()
        began = time.perf_counter()
        stats = await dispatcher.run_once()
        while stats.rate_limited or stats.released:  # a 429 left rows for later: finish them
            await asyncio.sleep(0.2)
            more = await dispatcher.run_once()
            stats.sent += more.sent
            stats.rate_limited = more.rate_limited
            stats.released = more.released
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_before
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seen = stats_of() if stats_of else await server_stats(base_url)
        async with app.database.transaction() as session:
            progress = await outbox.broadcast_progress(session, "bench")
    finally:
        if close_sender is not None:
            await close_sender()
        await app.close()
        server.stdin.close()
        server.wait(10)
    span = max(seen["last"] - seen["first"], 1e-9)
    achieved = (seen["accepted"] - 1) / span if seen["accepted"] > 1 else 0.0
    return {
        "people": people,
        "limit": rate,
        "sender": sender_kind,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "seconds": round(wall, 2),
        "achieved_per_s": round(achieved, 1),
        "fraction_of_limit": round(achieved / rate, 3),
        "count_429": seen["count_429"],
        "duplicates": seen["duplicates"],
        "losses": people - seen["chats"],
        "outbox_sent": progress.sent,
        "outbox_not_sent": progress.total - progress.sent,
        "bot_cpu_ms_per_message": round(cpu / people * 1000, 3),
        "server_cpu_ms_per_message": round(
            max(0.0, seen["cpu_seconds"] - server_cpu_before) / people * 1000, 3
        ),
        "load_average": os.getloadavg()[0],
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "rss_growth_mb": round((peak_rss - rss_before) / 1024, 1),
        "violations": seen["violations"],
    }


def show(result: dict) -> None:
    print(
        f"{result['people']:>6} people at limit {result['limit']}/s ({result['sender']}, "
        f"{result['database']}): {result['achieved_per_s']}/s achieved = "
        f"{result['fraction_of_limit']:.3f} of the limit in {result['seconds']} s; "
        f"429s: {result['count_429']}; duplicates: {result['duplicates']}; "
        f"losses: {result['losses']}; not sent in the outbox: {result['outbox_not_sent']}; "
        f"peak memory: {result['peak_rss_mb']} MB RSS (+{result['rss_growth_mb']} MB); "
        f"CPU a message: bot {result['bot_cpu_ms_per_message']} ms, fake server "
        f"{result['server_cpu_ms_per_message']} ms; load average {result['load_average']:.1f}"
    )
    print(json.dumps(result), flush=True)


DEFAULT_RUNS = [
    (10_000, 1000, "http"),
    (10_000, 1000, "telegram"),
    (10_000, 1000, "null"),
    (1_000, 30, "telegram"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--sender", choices=("telegram", "http", "null"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.people:
        show(asyncio.run(run(args.people, args.rate, args.sender or "http", args.database_url)))
        return
    for people, rate, sender in DEFAULT_RUNS:
        if args.sender and sender != args.sender:
            continue
        # Each run in a fresh process, so peak memory is that run's own.
        command = [sys.executable, __file__, "--people", str(people), "--rate", str(rate)]
        command += ["--sender", sender]
        if args.database_url:
            command += ["--database-url", args.database_url]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
