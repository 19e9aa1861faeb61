"""The Telegram channel (python-telegram-bot v22).

`start(app)` connects with `BUURTBOT_TELEGRAM_TOKEN` to `BUURTBOT_TELEGRAM_API_URL`,
sets the command menu, and polls for updates (or, with `BUURTBOT_TELEGRAM_WEBHOOK_URL`,
listens for Telegram's webhook). It returns the running channel: `stop()` ends it and
`sender` is its side of the delivery outbox.

The modules, in the order an update meets them: `polling` or `webhook` (the two ways
in) and `intake` (keeps updates in the database until handled), `application` (the PTB
Application) and `request` (its HTTP client, aiohttp), `ordering` (concurrent across
chats, ordered within one), `updates` (Update -> event), `channel` (the handler),
`callbacks` (signed button data), `render` (texts and keyboards), `sender` (replies as
Bot API calls; the outbox's sender), `errors` (retries), `commands` (the menu).
"""

from __future__ import annotations

from typing import Any

from bot.channels.parts import ChannelParts
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import TelegramSender

__all__ = ["TelegramChannel", "TelegramSender", "start"]


async def start(app: ChannelParts, **options: Any) -> TelegramChannel:
    """Start the Telegram channel of `app`; options go to `TelegramChannel`."""
    channel = TelegramChannel(app, **options)
    await channel.start()
    return channel
