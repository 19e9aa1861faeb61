"""Webhook mode: Telegram posts every update; it is kept in the inbox before the 200.

Telegram sends an update again until the webhook answers it with 2xx, so the answer
comes only once the update is kept (`intake`); a database that cannot keep it gets a
500, and Telegram tries again later. Requests must be JSON and carry the secret token
registered with the webhook (`X-Telegram-Bot-Api-Secret-Token`); others get 403, as
python-telegram-bot's own webhook server answers. The server is plain HTTP: TLS ends at
the reverse proxy in front of it.

A webhook that Telegram cannot reach (a proxy, a certificate, a firewall) leaves the
bot deaf without a sound on its side, so the server asks Telegram every `check_every`
seconds how delivery goes (`getWebhookInfo`) and reports it in `health()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from datetime import datetime
from typing import Any

from aiohttp import web
from telegram.error import TelegramError

from bot.channels.telegram.intake import Intake
from bot.health import Health
from bot.storage.errors import describe

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Listens on `listen`:`port` at `path` and passes each update to the intake."""

    def __init__(
        self,
        intake: Intake,
        *,
        path: str,
        listen: str,
        port: int,
        secret_token: str,
        check_every: float = 60.0,
    ):
        self.intake = intake
        self.path = "/" + path.strip("/")
        self.listen = listen
        self.port = port
        self.secret_token = secret_token
        self.check_every = check_every
        self._runner: web.AppRunner | None = None
        self._watch: asyncio.Task[None] | None = None
        self._state = Health(True, "webhook")

    async def start(self) -> None:
        """Hand over what the inbox holds, then listen."""
        await self.intake.replay()
        application = web.Application()
        application.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        self._watch = asyncio.create_task(self._watch_delivery(), name="telegram-webhook-watch")

    async def stop(self) -> None:
        """Stop listening (requests under way are answered), then finish what came."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.intake.close()

    def health(self) -> Health:
        return self._state

    async def _watch_delivery(self) -> None:
        while True:
            await asyncio.sleep(self.check_every)
            try:
                info = await self.intake.application.bot.get_webhook_info()
            except TelegramError as error:
                self._state = Health(False, f"Telegram cannot be asked about the webhook: {error}")
                continue
            self._state = judge(
                info.pending_update_count,
                info.last_error_date,
                info.last_error_message,
                self.check_every,
            )

    async def _post(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.Response(status=403, text="JSON only")
        token = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret_token.encode()):
            log.warning("Telegram webhook: a request without the right secret token")
            return web.Response(status=403, text="wrong or missing secret token")
        update = parse_update(await request.read())
        if update is None:
            log.warning("Telegram webhook: a request that is no Telegram update (400)")
            return web.Response(status=400, text="not an update")
        try:
            await self.intake.keep([update])
        except Exception as error:
            # The error is told by kind and table: the update's words stay out of the log.
            log.error(
                "Telegram webhook: update %s could not be kept (%s)",
                update["update_id"],
                describe(error),
            )
            return web.Response(status=500, text="try again")
        self.intake.hand_over(update)
        return web.Response(status=200)


LARGEST_UPDATE_ID = 2**63 - 1  # a BIGINT; Telegram's ids are far smaller
DEEPEST = 64  # levels of nesting a real update never comes near


def parse_update(body: bytes) -> dict[str, Any] | None:
    """The update in a request's body, or None for anything Telegram could not send:
    not JSON, JSON nested deeper than any update, no object, an `update_id` that is no
    whole number (`true` is not one) or does not fit the database."""
    if _depth_exceeds(body, DEEPEST):
        return None
    try:
        update = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= LARGEST_UPDATE_ID:
        return None
    return update


def _depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether brackets nest deeper than `limit` (strings skipped), without parsing."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def judge(pending: int, error_at: datetime | None, error: str | None, within: float) -> Health:
    """Telegram's view of the webhook: failing while updates wait after a recent error."""
    recent = error_at is not None and time.time() - error_at.timestamp() <= 2 * within + 10
    if pending and recent:
        return Health(False, f"Telegram cannot deliver ({pending} waiting): {error}")
    return Health(True, "webhook")
