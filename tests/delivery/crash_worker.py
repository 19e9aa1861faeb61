"""A `buurtbot run`-like process for the crash test: the real scheduler, a journal sender.

Usage: python tests/delivery/crash_worker.py JOURNAL RATE (settings from BUURTBOT_*).

Each delivery is appended to JOURNAL as `user_id` and fsync'ed before it counts as
sent, like a platform that has the message once it answered. The test kills this
process with SIGKILL in the middle of a broadcast, starts it again, and compares the
journal with the outbox.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.app import build
from bot.conversation.turns import Reply
from bot.delivery.scheduler import start
from bot.delivery.sender import Delivery, Status


class JournalSender:
    channel = "test"
    per_chat_interval = 1.0

    def __init__(self, path: str, rate: float):
        self.rate = rate
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        await asyncio.sleep(0.002)  # the platform's round trip
        os.write(self.fd, f"{user_id}\n".encode())
        os.fsync(self.fd)
        return Delivery(Status.SENT)


async def main(journal: str, rate: float) -> None:
    app = build()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    running = await start(app, [JournalSender(journal, rate)])
    print("ready", flush=True)
    await stop.wait()
    await running.stop()
    await app.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
