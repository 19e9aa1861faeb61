"""What crosses between a channel and the conversation service in one turn.

A channel hands the service an `Incoming` and gets a `Reply`; the outbox's senders and
the dispatcher pass replies on. Kept apart from the service so that whoever only sends
or receives need not import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.flows.events import Answer, Event, Outgoing


@dataclass(frozen=True)
class Incoming:
    """One thing a person did, as a channel hands it over.

    `key` identifies the platform update, so a redelivery is recognised; `language_hint`
    is what the person's app says their language is; `conversation_id` is the
    conversation a pressed button belongs to (a button of another one is stale).
    """

    channel: str
    user_id: str
    event: Event
    key: str | None = None
    language_hint: str | None = None
    conversation_id: int | None = None


@dataclass
class Reply:
    """What to send back.

    `stale` marks a button from an earlier question; `conversation_id` is the
    conversation whose question the reply asks (channels put it in their buttons).
    """

    messages: list[Outgoing] = field(default_factory=list)
    language: str = "nl"
    accepted: Answer | None = None
    stale: bool = False
    duplicate: bool = False
    conversation_id: int | None = None
