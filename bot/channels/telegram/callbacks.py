"""Signed, compact `callback_data` for inline buttons.

Telegram gives a button at most 64 bytes of data and hands it back verbatim when the
button is pressed, so anything in it can be forged by a modified client. A button here
carries where it belongs and what it means, and a MAC over that and the person it was
sent to::

    <conversation id, base 36>:<step key>:<action>:<mac>
    1kz:age_group:2:Qm9vbXNoYWthbGFr

`action` is the option's position in `Ask.options` (decimal), `d` for the "done" button
of a multiple-choice question or `s` for "rather not say". The MAC is HMAC-SHA256 with a
key derived from the secret key, over the Telegram user id and the first three fields,
truncated to 12 bytes (96 bits, base64url: 16 characters). Binding the user id means a
button pressed by anyone but the person it was sent to does not verify.

The longest data is 8 + 32 + 2 + 16 + 3 separators = 61 bytes: conversation ids below
36**8 and step keys of at most 32 characters (the flow schema's limit) always fit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from bot.flows.events import Done, Event, Pick, Skip

MAX_BYTES = 64
MAC_BYTES = 12
DONE = "d"
SKIP = "s"
_KEY_LABEL = b"buurtbot/telegram/callback-data/v1"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("conversation ids are positive")
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = _DIGITS[rest] + out
        if number == 0:
            return out


@dataclass(frozen=True)
class Press:
    """A verified button press."""

    conversation_id: int | None
    step: str
    index: int | None = None
    done: bool = False
    skip: bool = False

    def event(self) -> Event:
        if self.done:
            return Done(self.step)
        if self.skip:
            return Skip(self.step)
        return Pick(self.step, index=self.index)


class CallbackSigner:
    """Makes and checks button data; one instance per secret key."""

    def __init__(self, secret: bytes):
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()

    def _mac(self, user_id: str, body: str) -> str:
        digest = hmac.new(self._key, f"{user_id}|{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode().rstrip("=")

    def encode(self, user_id: str, conversation_id: int | None, step: str, action: str) -> str:
        """The data for one button; `action` is an option index, DONE or SKIP."""
        conversation = "" if conversation_id is None else _base36(conversation_id)
        body = f"{conversation}:{step}:{action}"
        data = f"{body}:{self._mac(user_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long ({len(data.encode())} bytes): {data!r}")
        return data

    def option(self, user_id: str, conversation_id: int | None, step: str, index: int) -> str:
        return self.encode(user_id, conversation_id, step, str(index))

    def decode(self, user_id: str, data: str | None) -> Press | None:
        """The press, or None when the data is malformed, forged or meant for someone else."""
        if not data or len(data) > MAX_BYTES:
            return None
        parts = data.split(":")
        if len(parts) != 4:
            return None
        conversation, step, action, mac = parts
        body = f"{conversation}:{step}:{action}"
        if not hmac.compare_digest(mac, self._mac(user_id, body)):
            return None
        try:
            conversation_id = int(conversation, 36) if conversation else None
        except ValueError:
            return None
        if not step:
            return None
        if action == DONE:
            return Press(conversation_id, step, done=True)
        if action == SKIP:
            return Press(conversation_id, step, skip=True)
        if action.isascii() and action.isdigit():
            return Press(conversation_id, step, index=int(action))
        return None
