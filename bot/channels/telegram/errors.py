"""What a Telegram error means for us, and retries for direct replies.

Telegram answers a call in one of a few ways that matter:

* 429 `RetryAfter`: flood control. Wait `retry_after` seconds, then the same call works.
* timeouts and 5xx (`TimedOut`, `NetworkError`): Telegram or the network had a hiccup.
  Try again a little later, waiting longer each time (bounded).
* 403 `Forbidden`: the person blocked the bot (or deleted their account). Retrying
  never helps: mark them unreachable and send nothing more.
* 400 `BadRequest`: we asked for something Telegram refuses (too long, a message that
  is gone, an edit that changes nothing). Retrying never helps: log it with its context.

`classify` maps an error to the outbox's `Status` (one attempt, the dispatcher retries);
`with_retries` retries a direct reply's call in place, so a person's replies still
arrive in order after a 429 storm or a short outage.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery.sender import Status

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bad requests that only say the person is out of reach, not that we did something wrong.
_UNREACHABLE_TEXTS = ("chat not found", "user not found", "user is deactivated", "peer_id_invalid")
# Bad requests that are harmless: the edit was already made, the button was already answered.
_HARMLESS_TEXTS = ("message is not modified", "query is too old", "query id is invalid")


class Unreachable(Exception):
    """The person cannot be reached on Telegram (blocked the bot, left): stop sending."""


class GaveUp(Exception):
    """Telegram kept failing (rate limits or outages) for longer than the retry budget."""


def retry_after_seconds(error: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version gives it in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def is_harmless(error: BadRequest) -> bool:
    text = str(error).lower()
    return any(part in text for part in _HARMLESS_TEXTS)


def is_unreachable(error: TelegramError) -> bool:
    if isinstance(error, Forbidden):
        return True
    text = str(error).lower()
    return isinstance(error, BadRequest) and any(part in text for part in _UNREACHABLE_TEXTS)


def classify(error: Exception) -> tuple[Status, float | None]:
    """The outbox status for one failed attempt, and how long to wait before the next."""
    if isinstance(error, RetryAfter):
        return Status.RETRY, retry_after_seconds(error)
    if isinstance(error, TelegramError) and is_unreachable(error):
        return Status.UNREACHABLE, None
    if isinstance(error, BadRequest | ChatMigrated):
        return Status.FAILED, None
    if isinstance(error, TimedOut | NetworkError | Conflict):
        return Status.RETRY, None
    if isinstance(error, InvalidToken):
        # The operator's mistake, not the message's: keep it for after the fix.
        return Status.RETRY, 60.0
    return Status.FAILED, None


@dataclass(frozen=True)
class RetryPolicy:
    """How long a direct reply keeps trying: bounded, so a dead Telegram ends the turn."""

    network_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_flood_wait: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Exponential, with jitter so many chats do not retry at the same instant."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)


DEFAULT_POLICY = RetryPolicy()


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    who: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T | None:
    """Run one Bot API call for a direct reply until it works.

    Returns the call's result, or None when Telegram refused it as a bad request (logged
    with `what` and `who`, the chat's name for logs). Raises `Unreachable` on 403 and
    `GaveUp` when the retry budget is spent.
    """
    attempt = 0
    flood_waited = 0.0
    while True:
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if flood_waited + wait > policy.max_flood_wait:
                raise GaveUp(f"{what}: flood control for over {flood_waited:.0f}s") from error
            flood_waited += wait
            log.info("Telegram flood control on %s to %s: waiting %.1fs", what, who, wait)
            await sleep(wait)
        except (Forbidden, BadRequest) as error:
            if is_unreachable(error):
                raise Unreachable(str(error)) from error
            if isinstance(error, BadRequest) and is_harmless(error):
                log.debug("Telegram: %s to %s: %s", what, who, error)
                return None
            log.warning("Telegram refused %s to %s: %s", what, who, error)
            return None
        except (TimedOut, NetworkError) as error:
            attempt += 1
            if attempt >= policy.network_attempts:
                raise GaveUp(f"{what}: {error} ({attempt} attempts)") from error
            delay = policy.backoff(attempt)
            log.info(
                "Telegram error on %s to %s (%s); retry %d in %.1fs",
                what,
                who,
                error,
                attempt,
                delay,
            )
            await sleep(delay)
        except TelegramError as error:
            log.error("Telegram error on %s to %s: %r", what, who, error)
            return None
