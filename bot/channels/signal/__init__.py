"""The Signal channel, through signal-cli's JSON-RPC daemon (`signal-cli daemon --http`).

`start(app)` first checks the daemon (`startup`): it must answer, and the bot's number
(`BUURTBOT_SIGNAL_NUMBER`) must be registered or linked there. Then it opens the event
stream (reconnecting with backoff when it drops) and hands each message to the
conversation service (`channel`).

The modules, in the order a message meets them: `client` (JSON-RPC and the event
stream), `intake` (keeps messages in the database until handled), `updates` (an event
-> engine event), `channel` (the handler), `render` (texts, numbered options),
`sender` (replies; the outbox's sender), `startup` (the daemon check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.channels.signal.channel import SignalChannel
from bot.channels.signal.client import SignalClient
from bot.channels.signal.sender import CHANNEL, SignalSender
from bot.channels.signal.startup import SignalNotReady, check_daemon, not_ready

if TYPE_CHECKING:
    from bot.channels.parts import ChannelParts

__all__ = ["CHANNEL", "SignalChannel", "SignalNotReady", "SignalSender", "check_daemon", "start"]


async def start(
    app: ChannelParts,
    *,
    initial_backoff: float = 0.5,
    read_timeout: float | None = None,
    **options: Any,
) -> SignalChannel:
    """Check the daemon and the bot's number, then listen; see the module docstring."""
    settings = app.settings
    if not settings.signal_url or not settings.signal_number:
        raise not_ready("Signal: set BUURTBOT_SIGNAL_URL and BUURTBOT_SIGNAL_NUMBER.")
    client = SignalClient(settings.signal_url, settings.signal_number)
    if read_timeout is not None:
        client.read_timeout = read_timeout
    try:
        await check_daemon(client)
    except BaseException:
        await client.close()
        raise
    channel = SignalChannel(app, client, initial_backoff=initial_backoff, **options)
    try:
        await channel.start()
    except BaseException:
        await client.close()
        raise
    return channel
