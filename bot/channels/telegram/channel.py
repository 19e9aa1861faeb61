"""The Telegram channel: updates in, the conversation service, replies out.

One handler takes every update (see `updates.read` for how each kind is sorted):

* a message in a private chat goes to the service; its reply is sent back in order,
  each call retried through 429s and outages (`errors.with_retries`);
* a button press is verified first (`callbacks`): forged data, or a button pressed by
  anyone but the person it was sent to, gets a short answer and changes nothing (and is
  logged). A verified press goes to the service with the conversation it belongs to; a
  stale one (an earlier question, or pressed twice) gets the service's short answer and
  nothing else. Every callback query is answered, whatever happens;
* an edited message gets a note that edits are not read;
* a group, supergroup or channel gets one note that the bot works in private chats,
  and nothing in it is handled;
* a person who blocks the bot is marked unreachable, and so is one whose chat answers
  403 to a reply.

While the service works longer than `typing_delay`, the chat shows "typing…".

Around each turn the channel base (`bot.channels.turns`) does what every channel does:
one chat's updates in order and different chats' at once (`ordering` names the chat),
update ids seen twice skipped (`intake`), the apology on a crash, the outbox for a
reply Telegram would not take. The service's database work is bounded by
`service_slots` (SQLite writes one transaction at a time anyway: one slot there avoids
lock waits; PostgreSQL gets a few); the Telegram calls of a reply run outside that
bound, concurrently with other chats' database work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatAction
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.bounded import Bounded
from bot.channels.parts import ChannelParts
from bot.channels.telegram import render
from bot.channels.telegram.application import (
    ALLOWED_UPDATES,
    build_application,
    webhook_path,
    webhook_secret,
)
from bot.channels.telegram.callbacks import CallbackSigner
from bot.channels.telegram.commands import set_commands
from bot.channels.telegram.errors import (
    DEFAULT_POLICY,
    GaveUp,
    RetryPolicy,
    Unreachable,
    with_retries,
)
from bot.channels.telegram.intake import Intake
from bot.channels.telegram.polling import Poller
from bot.channels.telegram.sender import Question, ReplyWriter, TelegramSender
from bot.channels.telegram.updates import CHANNEL, Inbound, Kind, LogNames, read
from bot.channels.telegram.webhook import WebhookServer
from bot.channels.turns import Turns, worth_sending
from bot.conversation.turns import Incoming, Reply
from bot.flows.events import Ask, Say
from bot.health import Health
from bot.i18n.translator import Translator

log = logging.getLogger(__name__)

TYPING_EVERY = 4.5  # Telegram shows "typing…" for 5 seconds


class _Typing:
    """Shows "typing…" in a chat after `delay` seconds, every few seconds, until stopped."""

    def __init__(self, bot: Bot, chat_id: int, delay: float):
        self.bot = bot
        self.chat_id = chat_id
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._begin) if delay > 0 else None
        if delay <= 0:
            self._begin()

    def _begin(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"typing-{self.chat_id}")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING)
            except TelegramError as error:
                log.debug("typing indicator: %s", error)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), TYPING_EVERY)

    async def stop(self) -> None:
        """Stop; a typing call under way ends first, so it never follows the reply."""
        if self._timer is not None:
            self._timer.cancel()
        self._stop.set()
        if self._task is not None:
            await self._task


class TelegramChannel:
    """The running channel: `start()`, `stop()`, and `sender` for the outbox."""

    name = CHANNEL

    def __init__(
        self,
        app: ChannelParts,
        application: Application | None = None,
        *,
        typing_delay: float = 0.5,
        poll_timeout: float = 30.0,
        retry_policy: RetryPolicy = DEFAULT_POLICY,
        service_slots: int | None = None,
        webhook_check_every: float = 60.0,
    ):
        self.app = app
        self.service = app.service
        self.settings = app.settings
        self.application = application or build_application(app.settings)
        self.bot = self.application.bot
        self.signer = CallbackSigner(app.settings.secret)
        self.writer = ReplyWriter(self.bot, self.signer, app.database, app.presence)
        self.api = self.writer.api
        self.who = LogNames(app.settings.secret)
        self.sender = TelegramSender(
            self.writer,
            self.service,
            app.settings.telegram_rate,
            names=self.who,
            policy=retry_policy,
        )
        self.typing_delay = typing_delay
        self.poll_timeout = poll_timeout
        self.retry_policy = retry_policy
        self.webhook_check_every = webhook_check_every
        self.service_slots = service_slots or (1 if app.database.is_sqlite else 8)
        self.turns = Turns(app, CHANNEL, self.service_slots)
        self._told_groups = Bounded()
        self._commands_task: asyncio.Task[None] | None = None
        # Where updates come from: the poller, or the webhook server.
        self.source: Poller | WebhookServer | None = None
        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)

    # ---- life cycle --------------------------------------------------------------------

    @property
    def webhook(self) -> bool:
        return bool(self.settings.telegram_webhook_url)

    @property
    def start_link(self) -> str | None:
        """`https://t.me/<bot>?start={payload}`: opens the chat and sends `/start PAYLOAD`
        when pressed (the dashboard's worker invites use it); None before the bot is known."""
        try:
            username = self.bot.username
        except RuntimeError:  # python-telegram-bot: not initialised yet
            return None
        return f"https://t.me/{username}?start={{payload}}" if username else None

    def health(self) -> Health:
        """Works while updates come in (see `Poller.health`, `WebhookServer.health`)."""
        if self.source is None:
            return Health(False, "not started")
        return self.source.health()

    @property
    def ended(self) -> asyncio.Future[str] | None:
        """The reason the channel cannot go on, once it cannot (see `bot.runner`)."""
        return self.source.ended if isinstance(self.source, Poller) else None

    async def start(self) -> None:
        """Connect (checks the token), then poll or listen for the webhook.

        A wrong token, or a Bot API that cannot be reached after a few tries, stops the
        start with one line that says what to do (`SystemExit`, no traceback).
        """
        await self._connect()
        await self.application.start()
        intake = Intake(
            self.application,
            self.app.database,
            self.app.presence,
            capacity=2 * self.service_slots,
            recent=self.turns.recent,
        )
        if self.webhook:
            url = self.settings.telegram_webhook_url or ""
            secret = webhook_secret(self.settings.secret)
            self.source = WebhookServer(
                intake,
                path=webhook_path(url),
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                secret_token=secret,
                check_every=self.webhook_check_every,
            )
            await self.source.start()
            await self._bootstrap(
                "setWebhook",
                lambda: self.bot.set_webhook(
                    url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                ),
            )
        else:
            await self._bootstrap("deleteWebhook", self.bot.delete_webhook)
            self.source = Poller(intake, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
            await self.source.start()
        self._commands_task = asyncio.create_task(
            set_commands(self.bot, self.app.parts), name="telegram-commands"
        )
        log.info(
            "Telegram: @%s is %s",
            self.bot.username,
            "listening for its webhook" if self.webhook else "polling",
        )

    async def _connect(self, attempts: int = 5) -> None:
        url = self.settings.telegram_api_url
        for attempt in range(1, attempts + 1):
            try:
                await self.application.initialize()
                return
            except InvalidToken as error:
                await self._close_requests()
                log.error(
                    "Telegram refused BUURTBOT_TELEGRAM_TOKEN (%s): copy the token from "
                    "@BotFather again",
                    error,
                )
                raise SystemExit(2) from None
            except (NetworkError, TimedOut) as error:
                if attempt == attempts:
                    await self._close_requests()
                    log.error(
                        "Telegram's Bot API at %s cannot be reached (%s): check "
                        "BUURTBOT_TELEGRAM_API_URL and the network",
                        url,
                        error,
                    )
                    raise SystemExit(2) from None
                delay = 2.0 ** (attempt - 1)
                log.warning("Telegram not reachable (%s); trying again in %.0fs", error, delay)
                await asyncio.sleep(delay)

    async def _close_requests(self) -> None:
        """Close the HTTP sessions a failed `initialize` left open."""
        for request in getattr(self.bot, "_request", ()):
            with contextlib.suppress(Exception):
                await request.shutdown()

    async def stop(self) -> None:
        """Stop fetching, finish the updates already fetched, then close."""
        if self._commands_task is not None:
            self._commands_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._commands_task
        if self.source is not None:
            await self.source.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _bootstrap(self, what: str, call: Callable[[], Awaitable[Any]]) -> None:
        """A call the start needs, retried like a reply; it fails the start if it fails."""
        try:
            await with_retries(call, what=what, who="the bot", policy=self.retry_policy)
        except (GaveUp, Unreachable) as error:
            log.error("Telegram: %s failed (%s)", what, error)
            raise SystemExit(2) from None

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The last resort: one update failed; log it, the bot goes on."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("Telegram update %s failed", update_id, exc_info=context.error)

    # ---- updates -----------------------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = read(update)
        if inbound.kind is Kind.EVENT:
            await self._event(inbound)
        elif inbound.kind is Kind.PRESS:
            await self._press(inbound)
        elif inbound.kind is Kind.EDITED:
            t = self._translator(inbound)
            await self._say(
                inbound,
                t.gettext("I do not read changed messages. Please send a new message."),
            )
        elif inbound.kind is Kind.GROUP:
            await self._group(inbound)
        elif inbound.kind is Kind.BLOCKED:
            log.info("Telegram: %s blocked the bot", self.who(inbound.user_id))
            await self.service.mark_unreachable(CHANNEL, inbound.user_id)

    async def _event(self, inbound: Inbound) -> None:
        assert inbound.event is not None
        incoming = Incoming(
            CHANNEL,
            inbound.user_id,
            inbound.event,
            key=inbound.key,
            language_hint=inbound.language_hint,
        )
        reply = await self._serve(incoming, inbound)
        # A redelivered message was handled before; the service may ask the current
        # question again, in case our first reply never arrived.
        if reply is not None and worth_sending(reply):
            await self._write(inbound, reply)

    async def _press(self, inbound: Inbound) -> None:
        query = inbound.query
        assert query is not None
        answered = False

        async def answer(text: str | None = None, alert: bool = False) -> None:
            nonlocal answered
            answered = True
            await self._call(
                inbound.chat_id,
                "answerCallbackQuery",
                lambda: self.api.answer_callback_query(
                    query.id,
                    render.truncate(text, render.MAX_CALLBACK_ANSWER) if text else None,
                    alert,
                ),
            )

        try:
            press = self.signer.decode(inbound.user_id, query.data) if inbound.private else None
            if press is None:
                log.warning(
                    "Telegram: forged or foreign button from %s in chat %s: %r",
                    self.who(inbound.user_id),
                    self.who(inbound.chat_id),
                    query.data,
                )
                t = self._translator(inbound)
                await answer(t.gettext("This button does not work. Please use the newest one."))
                return
            incoming = Incoming(
                CHANNEL,
                inbound.user_id,
                press.event(),
                key=inbound.key,
                language_hint=inbound.language_hint,
                conversation_id=press.conversation_id,
            )
            reply = await self._serve(incoming, inbound)
            if reply is None or reply.duplicate:
                await answer()
                if reply is not None and reply.messages:
                    # Handled before a crash, maybe never replied to: ask again.
                    await self._write(inbound, reply)
                return
            if reply.stale:
                await answer(_says(reply) or None)
                return
            message = query.message
            pressed = None
            if message is not None and message.is_accessible and message.text is not None:
                pressed = Question(message.message_id, press.step, message.text)  # type: ignore[union-attr]
            toast = _rejection(reply, press.step) if pressed is not None else None
            if toast is not None:
                # The question is still there with its buttons: say why, in the answer.
                await answer(toast, alert=True)
                return
            # The answer to the button and the reply at once: one round trip to Telegram
            # less before the person sees the next question (the order of the two does
            # not show: the answer only stops the button's spinner).
            await asyncio.gather(answer(), self._write(inbound, reply, pressed))
        finally:
            if not answered:
                with contextlib.suppress(Exception):
                    await self.api.answer_callback_query(query.id)

    async def _group(self, inbound: Inbound) -> None:
        if inbound.chat_id in self._told_groups:
            return
        self._told_groups.put(inbound.chat_id, True)
        t = self._translator(inbound)
        text = t.gettext(
            "I only work in private chats. Please send me a private message: @{bot}"
        ).format(bot=self.bot.username)
        await self._say(inbound, text)

    # ---- the service and the replies ----------------------------------------------------

    async def _serve(self, incoming: Incoming, inbound: Inbound) -> Reply | None:
        """The service's reply; "typing…" while it takes long; None when it crashed."""

        @contextlib.asynccontextmanager
        async def typing() -> AsyncIterator[None]:
            # Counted from the slot on: waiting for a slot is the bot being busy, and
            # "typing…" for every waiting update would only make it busier.
            shown = _Typing(self.bot, inbound.chat_id, self.typing_delay)
            try:
                yield
            finally:
                await shown.stop()

        async def apologise(text: str) -> None:
            await self._say(inbound, text)

        return await self.turns.serve(
            incoming,
            inbound.chat_id,
            apologise,
            hint=inbound.language_hint,
            busy=typing,
            who=self.who(incoming.user_id),
        )

    async def _write(self, inbound: Inbound, reply: Reply, pressed: Question | None = None) -> None:
        chat_id = inbound.chat_id
        who = self.who(chat_id)

        async def attempt(what: str, call: Callable[[], Awaitable[Any]]) -> Any:
            return await with_retries(call, what=what, who=who, policy=self.retry_policy)

        try:
            await self.writer.write(chat_id, inbound.user_id, reply, attempt, pressed)
        except Unreachable as error:
            log.info("Telegram: %s cannot be reached (%s)", self.who(inbound.user_id), error)
            await self.service.mark_unreachable(CHANNEL, inbound.user_id)
        except GaveUp as error:
            await self.turns.undelivered(inbound.user_id, reply, error, who)

    async def _say(self, inbound: Inbound, text: str) -> None:
        await self._call(
            inbound.chat_id,
            "sendMessage",
            lambda: self.api.send_message(inbound.chat_id, text),
        )

    async def _call(self, chat_id: int, what: str, call: Callable[[], Awaitable[Any]]) -> None:
        """One call outside a reply (notes, answers to buttons), retried like a reply."""
        try:
            await with_retries(call, what=what, who=self.who(chat_id), policy=self.retry_policy)
        except (Unreachable, GaveUp) as error:
            log.info("Telegram: %s to %s failed: %s", what, self.who(chat_id), error)

    def _translator(self, inbound: Inbound) -> Translator:
        """The person's language as last seen, else what their app says, else the default."""
        return self.turns.translator(inbound.chat_id, inbound.language_hint)


def _says(reply: Reply) -> str:
    return " ".join(m.text.strip() for m in reply.messages if isinstance(m, Say)).strip()


def _rejection(reply: Reply, step: str) -> str | None:
    """The reason, when a press was refused and only the same question follows."""
    if reply.accepted is not None or not reply.messages:
        return None
    *says, last = reply.messages
    if not isinstance(last, Ask) or last.step != step or last.refresh:
        return None
    if not says or not all(isinstance(m, Say) for m in says):
        return None
    text = _says(reply)
    if not text or render.utf16_len(text) > render.MAX_CALLBACK_ANSWER:
        return None
    return text
