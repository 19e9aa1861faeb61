"""Webhook mode: Telegram posts every update; it is kept in the inbox before the 200.

Telegram sends an update again until the webhook answers it with 2xx, so the answer
comes only once the update is kept (`intake`); a database that cannot keep it gets a
500, and Telegram tries again later. Requests must be JSON and carry the secret token
registered with the webhook (`X-Telegram-Bot-Api-Secret-Token`); others get 403, as
python-telegram-bot's own webhook server answers. The server is plain HTTP: TLS ends at
the reverse proxy in front of it.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from bot.channels.telegram.intake import Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Listens on `listen`:`port` at `path` and passes each update to the intake."""

    def __init__(self, intake: Intake, *, path: str, listen: str, port: int, secret_token: str):
        self.intake = intake
        self.path = "/" + path.strip("/")
        self.listen = listen
        self.port = port
        self.secret_token = secret_token
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Hand over what the inbox holds, then listen."""
        await self.intake.replay()
        application = web.Application()
        application.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()

    async def stop(self) -> None:
        """Stop listening (requests under way are answered), then finish what came."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.intake.close()

    async def _post(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.Response(status=403, text="JSON only")
        token = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret_token.encode()):
            log.warning("Telegram webhook: a request without the right secret token")
            return web.Response(status=403, text="wrong or missing secret token")
        try:
            update = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            await self.intake.keep([update])
        except Exception:
            log.exception("Telegram webhook: update %s could not be kept", update["update_id"])
            return web.Response(status=500, text="try again")
        self.intake.hand_over(update)
        return web.Response(status=200)
