"""signal-cli's receive events as what a person did.

An event's data is `{"account", "envelope"}`. Only a `dataMessage` is something a person
said; receipts (`receiptMessage`), typing (`typingMessage`), sync messages of the bot's
own other devices, calls and stories arrive on the same stream and are passed over.
People are keyed by `sourceUuid` only: `sourceNumber` may be hidden, and the phone
number is never kept when there is a UUID — an envelope without one is passed over.

A message in a group is read like a private one and answered privately: the bot talks
to a person, never to a group. The `@mention` placeholder signal-cli puts in the text
(U+FFFC) is dropped, so "@Buurtbot 2" in a group is "2".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.flows.events import Event, Media, Other, Text

log = logging.getLogger(__name__)

MENTION = "\ufffc"


@dataclass(frozen=True)
class Reaction:
    """An emoji reaction on an earlier message (`target_timestamp` is its id)."""

    emoji: str
    target_timestamp: int
    target_author: str | None = None
    remove: bool = False


@dataclass(frozen=True)
class Update:
    """One message from one person: an engine event, or a reaction to map first."""

    user_id: str
    timestamp: int
    event: Event | None = None
    reaction: Reaction | None = None
    group_id: str | None = None

    @property
    def key(self) -> str:
        """What makes a redelivery recognisable: sender and timestamp."""
        return f"{self.user_id}:{self.timestamp}"


def read(payload: dict[str, Any], account: str | None = None) -> Update | None:
    """The update in one receive event, or None when it is nothing a person said."""
    if account and payload.get("account") not in (None, account):
        return None  # another account of a multi-account daemon
    envelope = payload.get("envelope")
    if not isinstance(envelope, dict):
        return None
    data = envelope.get("dataMessage")
    if not isinstance(data, dict):
        return None  # receipt, typing, sync, call, story, edit
    user_id = envelope.get("sourceUuid")
    if not user_id or not isinstance(user_id, str):
        log.warning("Signal: a message without the sender's UUID, passed over")
        return None
    timestamp = envelope.get("timestamp") or data.get("timestamp")
    if not isinstance(timestamp, int):
        return None
    group = data.get("groupInfo")
    group_id = group.get("groupId") if isinstance(group, dict) else None

    reaction = data.get("reaction")
    if isinstance(reaction, dict):
        target = reaction.get("targetSentTimestamp")
        if not isinstance(target, int) or not reaction.get("emoji"):
            return None
        return Update(
            user_id,
            timestamp,
            reaction=Reaction(
                emoji=str(reaction["emoji"]),
                target_timestamp=target,
                target_author=reaction.get("targetAuthorUuid") or reaction.get("targetAuthor"),
                remove=bool(reaction.get("isRemove")),
            ),
            group_id=group_id,
        )
    event = _event(data)
    if event is None:
        return None
    return Update(user_id, timestamp, event=event, group_id=group_id)


def _event(data: dict[str, Any]) -> Event | None:
    text = _clean(data.get("message"))
    attachments = [a for a in data.get("attachments") or [] if isinstance(a, dict)]
    if attachments:
        attachment = attachments[0]
        kind = media_kind(str(attachment.get("contentType") or ""))
        caption = _clean(attachment.get("caption")) or text
        if kind is None:
            return Other("document")
        return Media(kind, str(attachment.get("id") or ""), caption)
    if data.get("sticker"):
        return Other("sticker")
    if data.get("contacts"):
        return Other("contact")
    if data.get("remoteDelete") or data.get("isExpirationUpdate"):
        return None
    if text:
        return Text(text)
    if data.get("payment") or data.get("pollCreate") or data.get("pollVote"):
        return Other("unsupported")
    return None  # a group update, or nothing


def media_kind(content_type: str) -> str | None:
    """`image/*` is a photo, `audio/*` a voice note, `video/*` a video."""
    major = content_type.split("/", 1)[0].strip().lower()
    return {"image": "photo", "audio": "voice", "video": "video"}.get(major)


def _clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return text.replace(MENTION, "").strip()


# ---- reactions as answers -----------------------------------------------------------

_KEYCAP = "\u20e3"
_VARIATION = "\ufe0f"
_SKIN_TONES = {chr(c) for c in range(0x1F3FB, 0x1F400)}
YES_EMOJI = {"👍", "✅", "✔", "☑", "👌"}
NO_EMOJI = {"👎", "❌", "✖", "🚫"}


def reaction_number(emoji: str) -> int | None:
    """1️⃣ .. 9️⃣ -> 1..9, 🔟 -> 10; anything else None."""
    plain = emoji.replace(_VARIATION, "")
    if plain == "🔟":
        return 10
    if len(plain) == 2 and plain[1] == _KEYCAP and plain[0] in "123456789":
        return int(plain[0])
    return None


def reaction_yes_no(emoji: str) -> str | None:
    """👍 -> "yes", 👎 -> "no" (any skin tone); anything else None."""
    plain = "".join(ch for ch in emoji if ch != _VARIATION and ch not in _SKIN_TONES)
    if plain in YES_EMOJI:
        return "yes"
    if plain in NO_EMOJI:
        return "no"
    return None
