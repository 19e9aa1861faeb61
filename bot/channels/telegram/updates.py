"""Telegram updates as the conversation service's events (or as what the channel does).

Everything Telegram may send ends up as one `Inbound`:

* a private message: `Text` (commands and `/start <deep-link payload>` pass through as
  typed: the service reads them), a photo (its largest size) or voice note or video as
  `Media` with Telegram's file id, anything else a person can send (sticker, location,
  contact, document, ...) as `Other(kind)`, which the engine answers kindly;
* a button press: `PRESS`, with the raw `callback_data` still to be verified;
* an edited message: `EDITED` (edits are not read; the person is told);
* a message in a group, supergroup or channel: `GROUP` (the bot works in private chats);
* `my_chat_member`: `BLOCKED` when the person blocked the bot;
* everything else (service messages, unknown kinds): `IGNORE`.

The person's id on the `telegram` channel is their Telegram user id as a string; the
dedupe key is stable for a redelivered update: `m<chat>:<message>` for messages and
`q<callback query id>` for presses.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from telegram import CallbackQuery, Chat, ChatMember, Message, Update

from bot.flows.events import Event, Media, Other, Text

CHANNEL = "telegram"

# Kinds of message content a person can send that no flow step takes as an answer.
_OTHER_KINDS = (
    "sticker",
    "location",
    "venue",
    "contact",
    "document",
    "audio",
    "animation",
    "video_note",
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "paid_media",
    "checklist",
)


class LogNames:
    """How a person appears in the logs: a keyed hash, never their Telegram id.

    Logs outlive `/forget`, so they name people by `tg-` and 8 base32 characters of an
    HMAC with the secret key; a group keeps its (non-personal) chat id.
    """

    def __init__(self, secret: bytes):
        self._key = hmac.new(secret, b"buurtbot/telegram/log-name/v1", hashlib.sha256).digest()
        # Every reply names its chat for the logs, whether they are written or not.
        self._names = functools.lru_cache(maxsize=10_000)(self._name)

    def __call__(self, chat_or_user_id: int | str) -> str:
        return self._names(str(chat_or_user_id))

    def _name(self, text: str) -> str:
        if text.startswith("-"):
            return f"group {text}"
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return "tg-" + base64.b32encode(digest).decode("ascii")[:8].lower()


class Kind(StrEnum):
    EVENT = "event"
    PRESS = "press"
    EDITED = "edited"
    GROUP = "group"
    BLOCKED = "blocked"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Inbound:
    """One update, read."""

    kind: Kind
    chat_id: int = 0
    user_id: str = ""
    event: Event | None = None
    key: str | None = None
    language_hint: str | None = None
    query: CallbackQuery | None = None

    @property
    def private(self) -> bool:
        return self.chat_id > 0 and str(self.chat_id) == self.user_id


def message_event(message: Message) -> Event | None:
    """What a message says, as an engine event; None for service messages."""
    if message.text is not None:
        return Text(message.text)
    caption = message.caption or ""
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size))
        return Media("photo", largest.file_id, caption)
    if message.voice is not None:
        return Media("voice", message.voice.file_id, caption)
    if message.video is not None:
        return Media("video", message.video.file_id, caption)
    for kind in _OTHER_KINDS:
        if getattr(message, kind, None):
            return Other(kind)
    return None


def read(update: Update) -> Inbound:
    """Sort an update into what the channel does with it."""
    if update.callback_query is not None:
        return _press(update.callback_query)
    if update.message is not None:
        return _message(update.message)
    if update.edited_message is not None:
        message = update.edited_message
        kind = Kind.EDITED if message.chat.type == Chat.PRIVATE else Kind.IGNORE
        return _inbound(kind, message)
    if update.channel_post is not None:
        return _inbound(Kind.GROUP, update.channel_post)
    member = update.my_chat_member
    if (
        member is not None
        and member.chat.type == Chat.PRIVATE
        and member.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
    ):
        return Inbound(Kind.BLOCKED, chat_id=member.chat.id, user_id=str(member.from_user.id))
    return Inbound(Kind.IGNORE)


def _inbound(kind: Kind, message: Message, **extra: object) -> Inbound:
    user = message.from_user
    return Inbound(
        kind,
        chat_id=message.chat.id,
        user_id=str(user.id) if user else "",
        language_hint=user.language_code if user else None,
        key=f"m{message.chat.id}:{message.message_id}",
        **extra,  # type: ignore[arg-type]
    )


def _message(message: Message) -> Inbound:
    if message.chat.type != Chat.PRIVATE:
        return _inbound(Kind.GROUP, message)
    if message.from_user is None or message.from_user.is_bot:
        return Inbound(Kind.IGNORE)
    event = message_event(message)
    if event is None:
        return Inbound(Kind.IGNORE, chat_id=message.chat.id)
    return _inbound(Kind.EVENT, message, event=event)


def _press(query: CallbackQuery) -> Inbound:
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    return Inbound(
        Kind.PRESS,
        chat_id=chat_id,
        user_id=str(query.from_user.id),
        key=f"q{query.id}",
        language_hint=query.from_user.language_code,
        query=query,
    )
