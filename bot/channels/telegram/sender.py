"""Sending a `Reply` to a Telegram chat: for direct replies and for the outbox.

`ReplyWriter` turns a reply into Bot API calls, in order:

1. when the reply accepted an answer, the question message is edited to show it (its
   text, then ✅ and the answer) and loses its buttons, so they cannot be pressed twice;
2. each message: texts (split at 4,096 characters), questions with their inline
   keyboard on the last piece, documents with their caption (a caption over 1,024
   characters follows as a text);
3. a `refresh` question (a multiple-choice toggle) edits the pressed message's keyboard
   in place instead of sending a new message.

How each call is attempted is the caller's: a direct reply retries in place (see
`errors.with_retries`); the outbox (`TelegramSender.deliver`) makes one attempt at the
first call and leaves retries to its dispatcher, but finishes in place a reply it has
begun (`Finish`).

The writer remembers the last question with buttons in each chat (a bounded map, in
memory), so that an answer typed instead of pressed also closes that question's buttons.
When several processes share the database, the person's next update may be handled by
another process: the question is then kept with the participant instead
(`participants.open_question`), and read from there.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import TelegramError

from bot.channels.direction import shaped_all
from bot.channels.telegram import render
from bot.channels.telegram.api import BotApi, Markup
from bot.channels.telegram.callbacks import CallbackSigner
from bot.channels.telegram.errors import (
    DEFAULT_POLICY,
    GaveUp,
    RetryPolicy,
    Unreachable,
    classify,
    with_retries,
)
from bot.channels.telegram.updates import CHANNEL
from bot.conversation.turns import Reply
from bot.delivery.sender import Delivery, Status
from bot.flows.events import Ask, Document, Say
from bot.i18n import bidi
from bot.storage import participants
from bot.storage.db import Database
from bot.storage.processes import Presence

if TYPE_CHECKING:
    from bot.conversation.service import ConversationService

log = logging.getLogger(__name__)

REMEMBERED_CHATS = 50_000

# How one Bot API call is attempted: `attempt(what, call)`; returns the call's result
# (None when it was refused and skipped).
Attempt = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def once(what: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """One attempt; errors propagate (the outbox's way)."""
    return await call()


def within_a_send(policy: RetryPolicy) -> RetryPolicy:
    """`policy`, cut to end well within the dispatcher's `send_timeout` (60 s).

    Past that timeout the dispatcher gives up on the row and sends it whole again, which
    is what finishing in place is there to avoid: 5 tries with at most 8 s between them,
    and at most 30 s of flood control.
    """
    return replace(
        policy,
        network_attempts=min(policy.network_attempts, 5),
        max_delay=min(policy.max_delay, 8.0),
        max_flood_wait=min(policy.max_flood_wait, 30.0),
    )


class Finish:
    """The outbox's way to attempt the calls of one reply: all of it, or none of it.

    The first call is tried once: when it fails nothing was sent, and the dispatcher
    retries the row later with its own pacing. Once something went out, the rest is
    retried in place like a direct reply, because a retry of the whole row would send
    the first messages again ("You are invited..." twice).
    """

    def __init__(self, policy: RetryPolicy, who: str):
        self.policy = policy
        self.who = who
        self.begun = False

    async def __call__(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        if not self.begun:
            result = await call()
            self.begun = True
            return result
        return await with_retries(call, what=what, who=self.who, policy=self.policy)


@dataclass(frozen=True)
class Question:
    """A question message with buttons, as shown in a chat."""

    message_id: int
    step: str
    text: str


class ReplyWriter:
    """Turns replies into Bot API calls for one bot (see the module docstring)."""

    def __init__(
        self,
        bot: Bot,
        signer: CallbackSigner,
        database: Database | None = None,
        presence: Presence | None = None,
    ):
        self.bot = bot
        self.api = BotApi(bot)
        self.signer = signer
        self.database = database
        self.presence = presence
        self._questions: OrderedDict[int, Question] = OrderedDict()

    # ---- the last question with buttons, per chat ------------------------------------

    @property
    def _shared(self) -> bool:
        return self.database is not None and self.presence is not None and self.presence.shared

    async def question(self, chat_id: int, user_id: str) -> Question | None:
        if not self._shared:
            return self._questions.get(chat_id)
        assert self.database is not None
        kept = await participants.open_question(self.database, CHANNEL, user_id)
        if not kept:
            return None
        return Question(int(kept["message_id"]), str(kept["step"]), str(kept["text"]))

    async def _remember(self, chat_id: int, user_id: str, question: Question | None) -> None:
        if self._shared:
            assert self.database is not None
            kept = None if question is None else asdict(question)
            await participants.set_open_question(self.database, CHANNEL, user_id, kept)
            return
        self._questions.pop(chat_id, None)
        if question is not None:
            self._questions[chat_id] = question
            while len(self._questions) > REMEMBERED_CHATS:
                self._questions.popitem(last=False)

    # ---- writing -----------------------------------------------------------------------

    async def write(
        self,
        chat_id: int,
        user_id: str,
        reply: Reply,
        attempt: Attempt = once,
        pressed: Question | None = None,
    ) -> None:
        """Send `reply` to the chat; `pressed` is the question whose button was pressed."""
        accepted = reply.accepted
        if accepted is not None:
            shown = pressed if pressed is not None else await self.question(chat_id, user_id)
            if shown is not None and shown.step == accepted.step:
                display = bidi.for_language(accepted.display, reply.language)
                await self._close(chat_id, user_id, shown, display, attempt)
        for message in shaped_all(reply.messages, reply.language):
            if isinstance(message, Say):
                await self._text(chat_id, message.text, attempt)
            elif isinstance(message, Ask):
                await self._ask(chat_id, user_id, message, reply, attempt, pressed)
            elif isinstance(message, Document):
                await self._document(chat_id, message, attempt)

    async def _close(
        self, chat_id: int, user_id: str, shown: Question, display: str, attempt: Attempt
    ) -> None:
        text = render.answered_text(shown.text, display)
        await attempt(
            f"editMessageText (answer to {shown.step})",
            lambda: self.api.edit_message_text(chat_id, shown.message_id, text),
        )
        current = await self.question(chat_id, user_id)
        if current is not None and current.message_id == shown.message_id:
            await self._remember(chat_id, user_id, None)

    async def _text(
        self,
        chat_id: int,
        text: str,
        attempt: Attempt,
        markup: Markup | None = None,
        what: str = "sendMessage",
    ) -> Any:
        pieces = render.split_text(text)
        if not pieces and markup is not None:
            pieces = ["…"]
        sent = None
        for number, piece in enumerate(pieces, start=1):
            last = number == len(pieces)
            sent = await attempt(
                what,
                lambda piece=piece, last=last: self.api.send_message(
                    chat_id, piece, markup if last else None
                ),
            )
        return sent

    async def _ask(
        self,
        chat_id: int,
        user_id: str,
        ask: Ask,
        reply: Reply,
        attempt: Attempt,
        pressed: Question | None,
    ) -> None:
        markup = render.keyboard(ask, self.signer, user_id, reply.conversation_id)
        if ask.refresh and markup is not None and pressed is not None and pressed.step == ask.step:
            await attempt(
                f"editMessageReplyMarkup (question {ask.step})",
                lambda: self.api.edit_message_reply_markup(chat_id, pressed.message_id, markup),
            )
            await self._remember(chat_id, user_id, pressed)
            return
        what = f"sendMessage (question {ask.step})"
        sent = await self._text(chat_id, ask.text, attempt, markup, what)
        if markup is None:
            await self._remember(chat_id, user_id, None)
        elif sent is not None:
            question = Question(sent["message_id"], ask.step, sent.get("text", ""))
            await self._remember(chat_id, user_id, question)

    async def _document(self, chat_id: int, document: Document, attempt: Attempt) -> None:
        caption = document.caption.strip()
        fits = render.utf16_len(caption) <= render.MAX_CAPTION
        await attempt(
            "sendDocument",
            lambda: self.bot.send_document(
                chat_id,
                document.data,
                filename=document.filename,
                caption=(caption or None) if fits else None,
            ),
        )
        if caption and not fits:
            await self._text(chat_id, caption, attempt)


class TelegramSender:
    """The outbox's way to Telegram: one attempt to deliver one whole reply.

    A reply of several messages is finished once begun (`Finish`); only when it cannot
    be finished at all (Telegram down for minutes) does the dispatcher retry it whole,
    and its first messages may then arrive twice. `rate`/`per_chat_interval` keep the
    dispatcher below Telegram's limits.
    """

    channel = CHANNEL

    def __init__(
        self,
        writer: ReplyWriter,
        service: ConversationService,
        rate: float,
        names: Callable[[int | str], str] = str,
        policy: RetryPolicy = DEFAULT_POLICY,
    ):
        self.writer = writer
        self.service = service
        self.names = names
        self.policy = within_a_send(policy)
        self.rate = rate
        self.per_chat_interval = 1.0

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        try:
            chat_id = int(user_id)
        except ValueError:
            return Delivery(Status.FAILED, error=f"not a Telegram user id: {user_id!r}")
        try:
            await self.writer.write(
                chat_id, user_id, reply, Finish(self.policy, self.names(chat_id))
            )
        except TelegramError as error:
            status, retry_after = classify(error)
            if status is Status.UNREACHABLE:
                await self.service.mark_unreachable(CHANNEL, user_id)
            elif status is Status.FAILED:
                log.warning("Telegram refused a message to %s: %s", self.names(chat_id), error)
            return Delivery(status, retry_after=retry_after, error=str(error))
        except Unreachable as error:
            await self.service.mark_unreachable(CHANNEL, user_id)
            return Delivery(Status.UNREACHABLE, error=str(error))
        except GaveUp as error:
            return Delivery(Status.RETRY, error=f"sent in part: {error}")
        return Delivery(Status.SENT)
