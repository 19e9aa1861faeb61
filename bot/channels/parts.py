"""What a channel is handed: the conversation service, the settings, the database, and
the parts the service hands on (`Parts`: translations, flows, the command table).

A protocol, not `bot.app.App`: the runner (above the channels) puts the parts together
and hands them in; a channel sees only these.
"""

from __future__ import annotations

from typing import Protocol

from bot.conversation.parts import Parts
from bot.conversation.service import ConversationService
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.processes import Presence


class ChannelParts(Protocol):
    """The parts every channel works with (`bot.app.App` has them)."""

    @property
    def service(self) -> ConversationService: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def presence(self) -> Presence: ...
    @property
    def parts(self) -> Parts: ...
