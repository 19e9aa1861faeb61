"""One send rate for the whole deployment: a token bucket in PostgreSQL.

Each process paces its own sends (`bot.delivery.pacing`), but several processes each
sending at `BUURTBOT_TELEGRAM_RATE` would together send several times that. With
several processes, each message also takes a slot from `send_rates`: the row holds the
channel's next free slot, and one `UPDATE` moves it on by one interval a message and
says how long to wait for the slot just taken. The database's clock times every slot,
so processes on different machines agree.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from bot.storage.db import Database

_TAKE = text(
    "INSERT INTO send_rates (channel, next_at) VALUES (:channel, clock_timestamp() + :cost) "
    "ON CONFLICT (channel) DO UPDATE "
    "SET next_at = GREATEST(send_rates.next_at, clock_timestamp()) + :cost "
    "RETURNING GREATEST(0, EXTRACT(EPOCH FROM (send_rates.next_at - :cost - clock_timestamp())))"
)


class SharedRate:
    """`rate` messages a second on `channel`, for all processes together (PostgreSQL)."""

    def __init__(self, database: Database, channel: str, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.database = database
        self.channel = channel
        self.interval = 1.0 / rate

    async def take(self, cost: int = 1) -> float:
        """Take `cost` slots; the seconds until the first of them."""
        async with self.database.engine.begin() as connection:
            result = await connection.execute(
                _TAKE,
                {"channel": self.channel, "cost": timedelta(seconds=self.interval * max(1, cost))},
            )
            return float(result.scalar_one())
