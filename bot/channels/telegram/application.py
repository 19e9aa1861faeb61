"""The python-telegram-bot `Application` as Buurtbot runs it.

* `base_url` is `BUURTBOT_TELEGRAM_API_URL` (a self-hosted Bot API server or a test
  server works the same); the file URL is derived from it the way Telegram lays it out.
* Updates are handled concurrently across chats and in order within one chat
  (`ChatOrderedProcessor`).
* HTTP goes through aiohttp (`request.AiohttpRequest`): several times less CPU a call
  than PTB's default httpx. The pool is large enough for many chats at once, and waits
  for a free connection instead of failing at once under load.
* Updates do not come through PTB's `Updater`: the channel's own poller or webhook
  server keeps them in the database first (`intake`) and hands them to this
  application. The webhook's requests must carry a secret token derived from the
  secret key (`webhook_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from urllib.parse import urlsplit

from telegram.ext import Application, ApplicationBuilder

from bot.channels.telegram.ordering import ChatOrderedProcessor
from bot.channels.telegram.request import AiohttpRequest
from bot.settings import Settings

# PTB 22 warns on every `RetryAfter` until durations are opted in as timedeltas, which is
# what its next major version does; `errors.retry_after_seconds` reads either.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Everything the channel handles; other kinds (inline queries, polls, ...) never come.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "my_chat_member",
)
CONNECTIONS = 128


def file_url(api_url: str) -> str:
    """The Bot API file URL beside `api_url`: `https://h/bot` -> `https://h/file/bot`."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def webhook_secret(secret: bytes) -> str:
    """The `X-Telegram-Bot-Api-Secret-Token` value: derived, so nothing more to configure."""
    digest = hmac.new(secret, b"buurtbot/telegram/webhook-secret/v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def webhook_path(url: str) -> str:
    """The path the webhook listens on: the path of the public webhook URL."""
    return urlsplit(url).path.strip("/")


def builder(settings: Settings) -> ApplicationBuilder:
    """A builder with Buurtbot's settings; `build()` it, or adjust it first (tests)."""
    if not settings.telegram_token:
        raise ValueError("BUURTBOT_TELEGRAM_TOKEN is not set")
    return (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .concurrent_updates(ChatOrderedProcessor())
        .request(AiohttpRequest(connections=CONNECTIONS))
        .get_updates_request(AiohttpRequest(connections=1))  # unused: the poller has its own
        .updater(None)
        .job_queue(None)
    )


def build_application(settings: Settings) -> Application:
    return builder(settings).build()
