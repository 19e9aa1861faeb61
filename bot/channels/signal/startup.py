"""Before the Signal channel listens: is signal-cli's daemon there, with the bot's number?

A daemon without the number would stream nothing, forever. If it is not ready, ONE log
line tells the operator what to do and `SignalNotReady` ends `buurtbot run` with exit
code 1 and no traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.channels.signal.client import (
    DaemonUnavailable,
    RpcError,
    SignalClient,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

README_HINT = "see README.md, section Signal"


class SignalNotReady(SystemExit):
    """The daemon is not there or lacks the bot's number; the reason is already logged.

    A `SystemExit` (code 1), so `buurtbot run` ends cleanly, with no traceback.
    """

    def __init__(self, reason: str):
        super().__init__(1)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


async def check_daemon(client: SignalClient) -> str:
    """The daemon's version; raises `SignalNotReady` (after one log line) when unusable."""
    url, number = client.base_url, client.account
    try:
        await client.check()
        version = await client.version()
    except (DaemonUnavailable, RpcError) as error:
        raise not_ready(
            f"Signal: no signal-cli daemon answers at BUURTBOT_SIGNAL_URL={url} ({error}). "
            "Start it with: signal-cli --trust-new-identities=always daemon "
            f"--http 127.0.0.1:8080 --receive-mode=on-connection ({README_HINT})."
        ) from None
    try:
        accounts = await client.list_accounts()
    except RpcError as error:
        if error.method_not_found:  # a single-account daemon (`-a NUMBER daemon`)
            log.info("Signal: signal-cli %s at %s runs for one account", version, url)
            return version
        raise not_ready(
            f"Signal: the daemon at {url} cannot list its accounts ({error})."
        ) from None
    except DaemonUnavailable as error:
        raise not_ready(f"Signal: the daemon at {url} stopped answering ({error}).") from None
    if number not in accounts:
        has = ", ".join(accounts) or "none"
        raise not_ready(
            f"Signal: the number {number} (BUURTBOT_SIGNAL_NUMBER) is not registered or linked "
            f"in the signal-cli daemon at {url} (it has: {has}). Register it "
            f"(signal-cli -a {number} register, then signal-cli -a {number} verify CODE) or "
            f"link it to a phone (signal-cli link -n Buurtbot), restart the daemon, then "
            f"start Buurtbot again ({README_HINT})."
        )
    log.info("Signal: signal-cli %s at %s has %s", version, url, number)
    return version


def not_ready(reason: str) -> SignalNotReady:
    """Log the reason once and make the exit that carries it."""
    log.error(reason)
    return SignalNotReady(reason)
